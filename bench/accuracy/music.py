"""Music or not, and AcoustID on broadcast stretches: what a paid lookup would be spent on.

    python -m bench.accuracy.music --out /tmp/music [--hours 1] [--profiles studio,fm-fast]
    python -m bench.accuracy.music --out /tmp/music --fit      # refit collector.musicness.WEIGHTS
    python -m bench.accuracy.music --out /tmp/music-smoke --smoke

Per station profile: a programme of music the catalog does not hold, talk, ad breaks, DJ
lines, jingles and dead air (bench/accuracy/unknown.py), through the station's chain,
fingerprinted as an agent does (10-s segments with their level, the rate-0 variant), every
segment unmatched. :func:`collector.musicness.spans_of_segments` finds the music; scored
against the truth:

* **excerpts on music**: each detected span's 12 s (what AudD would get) lying at least 90 %
  on a song; the rest, on talk, ads, jingles or silence, would be paid lookups wasted
  (target 0);
* **songs found**: songs of at least ``--min-s`` with an excerpt on them;
* **talk/ad stretches sent**: talk blocks and ad breaks of at least ``--min-s`` that a span
  covers for more than half (target 0); airtime shares of songs and of the rest in spans.

Then **AcoustID**: the local stand-in (tests/support/recognizers_standin, started as
``python -m tests.support.recognizers_standin``) knows every song; each detected span on a
song is looked up as the collector would send it (its values, its length as ``duration``),
and the share named is reported, for whole songs and for the rest (joined late, cut early).
``--fit`` fits the window weights on programmes of another seed (never the scored ones).
``--smoke`` (run by ``python -m bench.smoke``): one file per package, 6 minutes, two profiles.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from bench.accuracy.corpus import Track, scan
from bench.accuracy.radio import PROFILES
from bench.accuracy.unknown import MUSIC, Item, build
from collector import musicness
from collector.audio import decode_file
from collector.recognizers.acoustid import AcoustID
from collector.recognizers.outcomes import Named
from demo.radio import Profile, broadcast
from shared.chroma import CHROMAPRINT_RATE, item_duration, ppm_to_rate, rate_to_ppm
from shared.progress import Progress
from shared.segmenter import Segmenter

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ON_MUSIC = 0.9  # share of an excerpt that must lie on a song
ROOT = Path(__file__).resolve().parents[2]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def overlap(a: float, b: float, items: list[Item], kinds: set[str]) -> float:
    return sum(max(0.0, min(b, i.end) - max(a, i.start)) for i in items if i.kind in kinds)


def station(
    profile: Profile, songs: list[Track], short: list[Track], args: argparse.Namespace, seed: int
) -> dict:  # type: ignore[type-arg]
    """Build, broadcast and fingerprint one programme: its items (broadcast seconds), its segments
    at rate 0 (``pieces``) and at the station's own rate (``rated``: what the collector keeps
    once it has learned the rate, and sends to AcoustID). Both are cached in the work directory."""
    sdir = args.out / f"{profile.name}-{seed}-{args.hours:g}h"
    sdir.mkdir(parents=True, exist_ok=True)
    audio = sdir / f"{profile.name}.{profile.ext}"
    cached = sdir / "run.pickle"
    if cached.exists() and audio.exists():
        with cached.open("rb") as fh:
            run: dict = pickle.load(fh)  # type: ignore[type-arg]  # noqa: S301 - our own file
        if "rated" in run:
            return {**run, "profile": profile}
        items = run["items"]
    else:
        pcm, items = build(songs, short, args.hours, seed, args.out / "tts")
        audio = broadcast(pcm, profile, sdir, seed)
        del pcm
        for item in items:  # programme seconds -> broadcast seconds
            item.start, item.end = item.start / profile.speed, item.end / profile.speed
    ppm = rate_to_ppm(profile.speed)
    variants = sorted({0, ppm})
    segmenter = Segmenter(CHROMAPRINT_RATE, 10.0, variants, T0)
    decoded = decode_file(audio)
    segments = []
    for i in range(0, decoded.size, CHROMAPRINT_RATE // 4):  # the agent's quarter-second blocks
        segments += segmenter.feed(decoded[i : i + CHROMAPRINT_RATE // 4])
    segments += segmenter.finish()
    by_rate = {v: [] for v in variants}  # type: ignore[var-annotated]
    for seg in segments:
        for fp in seg.fingerprints:
            values = np.asarray(fp.values, dtype=np.uint32)
            by_rate[fp.rate_ppm].append(
                musicness.Piece(seg.start, seg.duration, seg.level_dbfs, values, item_duration(fp.rate_ppm))
            )
    run = {"items": items, "pieces": by_rate[0], "rated": by_rate[ppm], "rate_ppm": ppm}
    with cached.open("wb") as fh:
        pickle.dump(run, fh)
    return {**run, "profile": profile}


@dataclass
class Score:
    music_s: float
    other_s: float
    spans: int
    excerpts_on_music: int  # at least half of the 12 s on a song: a lookup spent on music
    excerpts_off_music: int  # mostly talk, ads, DJ lines, jingles or dead air: wasted
    excerpts_straddling: int  # of those on music, how many have under 90 % on the song
    songs: int
    songs_covered: int  # at least half of the song's airtime inside spans
    songs_with_excerpt: int  # an excerpt at least 90 % on the song
    long_talk_ads: int
    long_talk_ads_sent: int
    music_airtime: float  # share of song airtime inside spans
    other_airtime: float  # share of the rest inside spans
    off_music: list[str]


OTHER = {"talk", "ad", "dj", "jingle", "silence"}


def score(items: list[Item], spans: list[tuple[float, float, tuple[float, float]]], min_s: float) -> Score:
    music_s = sum(i.end - i.start for i in items if i.kind in MUSIC)
    other_s = sum(i.end - i.start for i in items if i.kind not in MUSIC)
    on = off = straddling = 0
    off_music = []
    found: set[int] = set()
    for _a, _b, (e0, e1) in spans:
        music = overlap(e0, e1, items, MUSIC)
        if music >= 0.5 * (e1 - e0):
            on += 1
            straddling += music < ON_MUSIC * (e1 - e0)
            found |= {k for k, item in enumerate(items) if item.kind in MUSIC and _on(e0, e1, item)}
        else:
            off += 1
            what = max(sorted(OTHER), key=lambda k: overlap(e0, e1, items, {k}))
            off_music.append(f"{e0:.0f}-{e1:.0f} s on {what}")
    songs = [k for k, i in enumerate(items) if i.kind in MUSIC and i.end - i.start >= min_s]
    covered = [
        k
        for k in songs
        if sum(overlap(a, b, [items[k]], MUSIC) for a, b, _ in spans) >= 0.5 * (items[k].end - items[k].start)
    ]
    long_other = [i for i in items if i.kind in ("talk", "ad") and i.end - i.start >= min_s]
    sent = [
        i
        for i in long_other
        if sum(max(0.0, min(b, i.end) - max(a, i.start)) for a, b, _ in spans) > 0.5 * (i.end - i.start)
    ]
    in_spans_music = sum(overlap(a, b, items, MUSIC) for a, b, _ in spans)
    in_spans_other = sum(overlap(a, b, items, OTHER) for a, b, _ in spans)
    return Score(
        music_s,
        other_s,
        len(spans),
        on,
        off,
        straddling,
        len(songs),
        len(covered),
        len(found & set(songs)),
        len(long_other),
        len(sent),
        in_spans_music / music_s if music_s else 0.0,
        in_spans_other / other_s if other_s else 0.0,
        off_music,
    )


def detected(run: dict, min_s: float) -> list[tuple[float, float, tuple[float, float]]]:  # type: ignore[type-arg]
    """(start, end, excerpt) of every music span, in seconds after T0."""
    out = []
    for a, b, span in musicness.spans_of_segments(run["pieces"], min_s):
        base = (a - T0).total_seconds() - span.start
        out.append(
            (
                (a - T0).total_seconds(),
                (b - T0).total_seconds(),
                (base + span.excerpt[0], base + span.excerpt[1]),
            )
        )
    return out


def fit(runs: list[dict]) -> None:  # type: ignore[type-arg]
    """Logistic regression of window labels (song / talk, ads, DJ) on the window features."""
    xs, ys = [], []
    for run in runs:
        values = np.concatenate([p.values for p in run["pieces"]])
        feats, silent = musicness.window_features(values)
        step = item_duration(0)
        for k in range(feats.shape[0]):
            a = k * musicness.HOP * step
            b = a + musicness.WINDOW * step
            music = overlap(a, b, run["items"], MUSIC)
            speech = overlap(a, b, run["items"], {"talk", "ad", "dj"})
            if silent[k] or max(music, speech) < 0.8 * (b - a):
                continue
            xs.append(feats[k])
            ys.append(1.0 if music > speech else 0.0)
    x, y = np.array(xs), np.array(ys)
    mu, sd = x.mean(0), x.std(0)
    z = (x - mu) / sd
    # each class weighs half: songs far outnumber talk in airtime, and a miss on talk costs money
    weight = np.where(y > 0.5, 0.5 / y.sum(), 0.5 / (len(y) - y.sum()))
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * weight
        w -= 2.0 * (z.T @ g + 1e-3 * w)
        b -= 2.0 * g.sum()
    weights, bias = w / sd, b - float((mu / sd) @ w)
    music = (z @ w + b) > 0
    print(
        f"{len(y)} windows ({int(y.sum())} song): song windows rated music {music[y > 0.5].mean():.3f}, "
        f"talk/ad/DJ windows rated music {music[y < 0.5].mean():.3f}"
    )
    print(f"WEIGHTS = np.array([{', '.join(f'{v:.3f}' for v in weights)}])")
    print(f"BIAS = {bias:.2f}")


def acoustid_share(runs: list[dict], songs: list[Track], args: argparse.Namespace) -> list[dict]:  # type: ignore[type-arg]
    """Look each span on a song up in the stand-in's AcoustID; the share named, by kind of play."""
    from tests.support.recognizers_standin import write_catalog

    catalog = args.out / "standin"
    write_catalog(catalog, [Path(t.path) for t in songs])
    with (catalog / "catalog.csv").open(encoding="utf-8") as fh:
        titles = {r["path"]: r["title"] for r in csv.DictReader(fh)}
    port = 18000 + os.getpid() % 1000
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.recognizers_standin",
            "--port",
            str(port),
            "--catalog",
            str(catalog),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # it prints its URLs once the references are fingerprinted
            if "acoustid_url" in line:
                break
        url = f"http://127.0.0.1:{port}/v2/lookup"
        out = []
        with AcoustID(url, SecretStr("acoustid-test-key")) as client:
            for run in runs:
                out.append({"profile": run["profile"].name, **_lookups(client, run, titles, args.min_s)})
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def _lookups(client: AcoustID, run: dict, titles: dict[str, str], min_s: float) -> dict[str, list[int]]:  # type: ignore[type-arg]
    """[asked, named right] for the detected spans and for the songs' exact extents.

    As the collector would ask: the values of the station's own rate variant (the song at its
    recorded speed) and the duration of that audio (the broadcast seconds times the rate), so a
    station 4 % fast is not 4 % off AcoustID's length window."""
    values = np.concatenate([p.values for p in run["rated"]])
    step = item_duration(run["rate_ppm"])
    speed = ppm_to_rate(run["rate_ppm"])
    tally = {k: [0, 0] for k in ("whole", "partial", "exact whole", "exact partial")}
    asks = []
    for a, b, (e0, e1) in run["spans"]:  # what the collector would send: the span
        song = next((i for i in run["items"] if i.kind in MUSIC and _on(e0, e1, i)), None)
        if song is not None:
            asks.append((a, b, song, "partial" if _partial(song) else "whole"))
    for song in run["items"]:  # an upper bound: the song's exact broadcast extent
        if song.kind in MUSIC and song.end - song.start >= min_s:
            asks.append((song.start, song.end, song, "exact partial" if _partial(song) else "exact whole"))
    for first, last, song, kind in asks:
        part = values[int(first / step) : int(last / step)]
        outcome = client.lookup([int(v) for v in part], (last - first) * speed)
        tally[kind][0] += 1
        tally[kind][1] += int(isinstance(outcome, Named) and outcome.best.title == titles[song.path])
    return tally


def _on(e0: float, e1: float, song: Item) -> bool:
    return overlap(e0, e1, [song], MUSIC) >= ON_MUSIC * (e1 - e0)


def _partial(song: Item) -> bool:
    return "joined late" in song.note or "cut early" in song.note


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.accuracy.music", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="work directory")
    p.add_argument("--hours", type=float, default=1.0, help="simulated hours per station (default 1)")
    p.add_argument("--profiles", default="studio,fm-fast,web-plus4,am-minus4")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--min-s", type=float, default=musicness.MIN_MUSIC_S, help="recognizers.music_min_s")
    p.add_argument("--fit", action="store_true", help="fit the window weights on another seed's programmes")
    p.add_argument("--no-acoustid", action="store_true", help="skip the AcoustID lookups")
    p.add_argument("--smoke", action="store_true", help="a tiny corpus and programme: checks that it runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.hours, args.profiles = 0.1, "studio,fm-fast"
    args.out.mkdir(parents=True, exist_ok=True)
    profiles = [pr for pr in PROFILES if pr.name in args.profiles.split(",")]
    songs, short = scan(
        args.out / ("corpus-smoke.json" if args.smoke else "corpus.json"), log, 1 if args.smoke else None
    )
    seed = args.seed + (1000 if args.fit else 0)
    bar = Progress("programmes", len(profiles), " stations")
    runs = []
    for profile in profiles:
        runs.append(station(profile, songs, short, args, seed))
        bar.advance(profile.name)
    bar.done()
    if args.fit:
        fit(runs)
        return 0
    header = (
        "| station profile | spans | excerpts on music (straddling an edge) | excerpts on speech/ads "
        "| songs covered | songs with an excerpt | song airtime in spans | other airtime in spans |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    results, lines = [], []
    for run in runs:
        run["spans"] = detected(run, args.min_s)
        s = score(run["items"], run["spans"], args.min_s)
        results.append({"profile": run["profile"].name, "score": asdict(s)})
        lines.append(
            f"| {run['profile'].name} | {s.spans} | {s.excerpts_on_music} ({s.excerpts_straddling}) "
            f"| {s.excerpts_off_music} | {s.songs_covered}/{s.songs} | {s.songs_with_excerpt}/{s.songs} "
            f"| {s.music_airtime:.3f} | {s.other_airtime:.3f} |"
        )
        for what in s.off_music:
            log(f"  {run['profile'].name}: excerpt {what}")
    print(header)
    print("\n".join(lines))
    kinds = {
        k: sum(1 for r in runs for i in r["items"] if i.kind == k)
        for k in ("song", "talk", "ad", "dj", "jingle", "silence")
    }
    print(
        f"{args.hours:g} h per station, seed {args.seed}, floor {args.min_s:g} s; items: "
        + ", ".join(f"{v} {k}" for k, v in kinds.items())
    )
    long_other = sum(r["score"]["long_talk_ads"] for r in results)
    inside = sum(r["score"]["long_talk_ads_sent"] for r in results)
    print(
        f"talk blocks and ad breaks of {args.min_s:g} s or more: {long_other}, "
        f"{inside} of them more than half inside a span"
    )
    named = [] if args.no_acoustid else acoustid_share(runs, songs, args)
    if named:
        print()
        print(
            "| station profile | AcoustID named, detected spans: whole plays | joined late or cut early "
            "| exact song extents: whole plays | joined late or cut early |"
        )
        print("| --- | --- | --- | --- | --- |")
        for n in named:
            cells = [f"{n[k][1]}/{n[k][0]}" for k in ("whole", "partial", "exact whole", "exact partial")]
            print(f"| {n['profile']} | " + " | ".join(cells) + " |")
    (args.out / "music.json").write_text(json.dumps({"results": results, "acoustid": named}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
