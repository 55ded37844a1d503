"""Accuracy benchmark: simulated radio days through ``sodav-collector analyze``, and a peer.

    pip install audfprint2          # the peer (optional: skipped with a note if missing)
    python -m bench.accuracy.run --out /tmp/accuracy [--hours 1] [--profiles studio,fm-fast]
    python -m bench.accuracy.run --out /tmp/accuracy-smoke --smoke   # about a minute, see below

Steps: scan and deduplicate the music of five Debian packages; split it into catalog and
off-catalog songs; remaster a quarter of the catalog songs (near-duplicate versions, both in
the catalog: bench/accuracy/versions.py); write the catalog CSV and import it with ``sodav-collector catalog
import`` into a fresh SQLite database; build one programme per station profile and run it
through the station chain; run ``sodav-collector analyze FILE --station NAME --start ISO
--csv OUT`` on each (the system under test, as a user runs it); run audfprint2 on the same
files; score both against the ground truth. Writes ``results.md`` and ``results.json`` in
``--out`` and prints the table. Exit status 1 when a profile misses a target.

``--smoke`` (run by ``python -m bench.smoke``) checks that the whole path works, not its
accuracy: one file per package, two stations of 6 minutes, no peer; the targets are
reported but do not set the exit status (a dozen plays say nothing about 0.99).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.accuracy import peer as peer_mod
from bench.accuracy.corpus import apart, scan, split
from bench.accuracy.radio import PROFILES, TruthPlay, build_programme
from bench.accuracy.score import TARGETS, Interval, Score, meets, score
from bench.accuracy.versions import remasters
from demo.radio import Profile, broadcast
from shared.progress import Progress

START = "2026-01-01T00:00:00Z"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def collector_cmd() -> list[str]:
    return [sys.executable, "-m", "collector.cli"]


def collector(args: list[str], env: dict[str, str], quiet: bool = False) -> None:
    """``sodav-collector ARGS``; its progress shows unless ``quiet``; its error ends the run."""
    done = subprocess.run(
        [*collector_cmd(), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if quiet else None,
    )
    if done.returncode:
        tail = (done.stderr or b"")[-2000:].decode(errors="replace")
        raise SystemExit(f"sodav-collector {' '.join(args)} failed ({done.returncode}):\n{tail}")


def write_catalog(out: Path, catalog: list, ext_of: dict[str, str]) -> Path:  # type: ignore[type-arg]
    path = out / "catalog.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "external_id", "title", "artist", "isrc", "album", "label"])
        for i, t in enumerate(catalog):
            w.writerow([t.path, ext_of[t.path], t.stem, t.package, f"SNZ9B26{i + 1:05d}", t.package, "bench"])
    return path


def station(
    profile: Profile,
    args: argparse.Namespace,
    parts: tuple,  # type: ignore[type-arg]
    ext_of: dict[str, str],
    db: Path,
    bar: Progress,
) -> dict:  # type: ignore[type-arg]
    catalog, offcat, short, versions = parts
    sdir = args.out / profile.name
    sdir.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    audio = sdir / f"{profile.name}.{profile.ext}"
    if args.reuse and audio.exists() and (sdir / "truth.csv").exists():
        with (sdir / "truth.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        truth = [
            TruthPlay(
                r["station"],
                r["path"],
                float(r["start_s"]),
                float(r["end_s"]),
                float(r["offset_s"]),
                r["kind"],
                r["note"],
            )
            for r in rows
        ]
    else:
        pcm, truth = build_programme(
            profile.name, catalog, offcat, short, args.hours, args.seed, args.out / "tts", versions
        )
        audio = broadcast(pcm, profile, sdir, args.seed)
        del pcm
        for tp in truth:  # programme seconds -> broadcast seconds
            tp.start, tp.end = tp.start / profile.speed, tp.end / profile.speed
        with (sdir / "truth.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["station", "external_id", "path", "start_s", "end_s", "offset_s", "kind", "note"])
            for tp in truth:
                w.writerow(
                    [
                        tp.station,
                        ext_of.get(tp.path, ""),
                        tp.path,
                        f"{tp.start:.2f}",
                        f"{tp.end:.2f}",
                        f"{tp.offset:.2f}",
                        tp.kind,
                        tp.note,
                    ]
                )
    built = time.monotonic() - t
    bar.clear()
    log(f"{profile.name}: programme built in {built:.0f} s ({len(truth)} songs) -> {audio.name}")
    bar.advance(f"{profile.name} built")
    # the system under test, as a user runs it: own copy of the freshly imported catalog
    station_db = sdir / f"collector-{args.name}.db"
    shutil.copyfile(db, station_db)
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=f"sqlite:///{station_db}")
    out_csv = sdir / f"plays-{args.name}.csv"
    t = time.monotonic()
    # stations run in parallel: their progress bars would share one line
    collector(
        ["analyze", str(audio), "--station", profile.name, "--start", START, "--csv", str(out_csv)], env, True
    )
    analyze_s = time.monotonic() - t
    bar.clear()
    log(f"{profile.name}: analyze took {analyze_s:.0f} s")
    bar.advance(f"{profile.name} analysed")
    return {
        "profile": profile,
        "audio": audio,
        "truth": truth,
        "plays_csv": out_csv,
        "analyze_s": analyze_s,
        "built_s": built,
    }


def read_plays(path: Path) -> list[Interval]:
    out = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            s = datetime.fromisoformat(row["start"].replace("Z", "+00:00"))
            e = datetime.fromisoformat(row["end"].replace("Z", "+00:00"))
            out.append(Interval(row["external_id"], (s - T0).total_seconds(), (e - T0).total_seconds()))
    return out


def truth_intervals(truth: list[TruthPlay], ext_of: dict[str, str]) -> list[Interval]:
    return [Interval(ext_of[t.path], t.start, t.end) for t in truth if t.kind == "song"]


def clip(items: list[Interval], limit: float) -> list[Interval]:
    """What lies in the first ``limit`` seconds (a play that goes on past it is cut there)."""
    return [Interval(i.key, i.start, min(i.end, limit)) for i in items if i.start < limit - 5]


def fmt(x: float, nd: int = 1) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{nd}f}"


def row(name: str, system: str, s: Score) -> str:
    ok = "yes" if meets(s) else "**no**"
    return (
        f"| {name} | {system} | {s.truth} | {s.detected} | {s.recall:.3f} | {s.precision:.3f} | "
        f"{fmt(s.start_median)} / {fmt(s.start_p90)} | {fmt(s.end_median)} / {fmt(s.end_p90)} | "
        f"{s.airtime_ratio:.3f} | {ok} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.accuracy.run", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="work directory (audio, databases, results)")
    p.add_argument("--hours", type=float, default=1.0, help="simulated hours per station (default 1)")
    p.add_argument("--profiles", default=",".join(pr.name for pr in PROFILES))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--jobs", type=int, default=2, help="stations built and analysed in parallel")
    p.add_argument("--no-peer", action="store_true", help="skip audfprint2")
    p.add_argument("--peer-minutes", type=float, default=10, help="audfprint2 runs on the first N minutes")
    p.add_argument("--reuse", action="store_true", help="reuse the programmes and catalog already in --out")
    p.add_argument("--name", default="results", help="results file name (default results.md/.json)")
    p.add_argument("--smoke", action="store_true", help="a tiny corpus and programme: checks that it runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.hours, args.profiles, args.no_peer = 0.1, "studio,fm-fast", True
    args.out.mkdir(parents=True, exist_ok=True)
    profiles = [pr for pr in PROFILES if pr.name in args.profiles.split(",")]
    t_all = time.monotonic()

    if args.smoke:
        songs, short = scan(args.out / "corpus-smoke.json", log, per_package=1)
    else:
        songs, short = scan(args.out / "corpus.json", log)
    catalog, offcat = split(songs, args.seed)
    short = apart(short, catalog)  # jingles and ad beds: no catalog audio either
    ext_of = {t.path: f"BENCH-{i + 1:04d}" for i, t in enumerate(catalog)}
    versions = remasters(catalog, args.out / "remasters", args.seed)
    for i, v in enumerate(sorted(versions.values(), key=lambda t: t.path)):
        ext_of[v.path] = f"BENCH-R{i + 1:03d}"
    log(
        f"{len(catalog)} catalog songs and {len(versions)} remasters of them, "
        f"{len(offcat)} off-catalog songs, {len(short)} jingles/beds"
    )
    cat_csv = write_catalog(args.out, [*catalog, *versions.values()], ext_of)
    db = args.out / "catalog.db"
    if not args.reuse:  # a fresh database; with --reuse the import is idempotent and quick
        db.unlink(missing_ok=True)
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=f"sqlite:///{db}")
    t = time.monotonic()
    collector(["catalog", "import", str(cat_csv)], env)
    import_s = time.monotonic() - t
    log(f"catalog imported in {import_s:.0f} s")

    # two steps per station (programme, analysis), about as long as each other
    bar = Progress("stations", 2 * len(profiles), " steps")
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        parts = (catalog, offcat, short, versions)
        runs = list(pool.map(lambda pr: station(pr, args, parts, ext_of, db, bar), profiles))
    bar.done()

    header = (
        "| station profile | system | true plays | detected | recall | precision "
        "| start err median / p90 (s) | end err median / p90 (s) | airtime ratio | meets targets |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    results: list[dict] = []  # type: ignore[type-arg]
    lines = []
    for r in runs:
        truth = truth_intervals(r["truth"], ext_of)
        s = score(truth, read_plays(r["plays_csv"]))
        results.append(
            {"profile": r["profile"].name, "system": "sodav", "score": asdict(s), "s": r["analyze_s"]}
        )
        lines.append(row(r["profile"].name, "sodav-collector analyze", s))
        for miss in s.misses:
            log(f"  {r['profile'].name} missed {miss}")
        for f in s.false:
            log(f"  {r['profile'].name} false {f}")

    peer_note = ""
    if args.no_peer:
        peer_note = "peer skipped (--no-peer)"
    elif not peer_mod.available():
        peer_note = "peer skipped: audfprint2 is not installed (pip install audfprint2)"
    else:
        t = time.monotonic()
        pr = peer_mod.Peer([(ext_of[c.path], c.path) for c in [*catalog, *versions.values()]])
        log(f"audfprint2: catalog ingested in {time.monotonic() - t:.0f} s")
        peer_lines = []
        limit = args.peer_minutes * 60
        for r in runs:
            truth = clip(truth_intervals(r["truth"], ext_of), limit)
            ours = score(truth, clip(read_plays(r["plays_csv"]), limit))
            peer_lines.append(
                row(r["profile"].name, f"sodav-collector analyze, first {args.peer_minutes:g} min", ours)
            )
            speed = r["profile"].speed
            for label, sp in (("audfprint2", 1.0), ("audfprint2, true speed undone", speed)):
                if label.endswith("undone") and speed == 1.0:
                    continue
                t = time.monotonic()
                s = score(truth, clip(pr.analyze(r["audio"], sp, limit), limit))
                log(f"{r['profile'].name}: {label} took {time.monotonic() - t:.0f} s")
                results.append(
                    {
                        "profile": r["profile"].name,
                        "system": label,
                        "minutes": args.peer_minutes,
                        "score": asdict(s),
                        "s": time.monotonic() - t,
                    }
                )
                peer_lines.append(row(r["profile"].name, f"{label}, first {args.peer_minutes:g} min", s))
        log("audfprint2 done")
        lines += [
            "",
            f"Peer comparison on the first {args.peer_minutes:g} minutes of each station:",
            "",
            header,
        ]
        lines += peer_lines
    table = header + "\n" + "\n".join(lines)
    profiles_md = "\n".join(
        f"- `{pr.name}`: speed {100 * (pr.speed - 1):+.1f} %, `{pr.filters}`, "
        f"noise {pr.noise_db if pr.noise_db is not None else 'none'} dBFS, "
        f"{' '.join(pr.codec)} {pr.ext}"
        for pr in profiles
    )
    total = time.monotonic() - t_all
    cpu = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = sum(r.ru_utime + r.ru_stime for r in cpu)
    summary = (
        f"{len(catalog)} catalog / {len(offcat)} off-catalog songs, {args.hours:g} h per station, "
        f"seed {args.seed}; "
        f"catalog import {import_s:.0f} s; analyze "
        + ", ".join(f"{r['profile'].name} {r['analyze_s']:.0f} s" for r in runs)
        + f"; whole run {total / 60:.1f} min wall, {cpu_s / 60:.1f} min CPU"
    )
    md = f"{table}\n\n{summary}\n\n{profiles_md}\n" + (f"\n{peer_note}\n" if peer_note else "")
    (args.out / f"{args.name}.md").write_text(md)
    (args.out / f"{args.name}.json").write_text(
        json.dumps({"targets": TARGETS, "results": results, "summary": summary}, indent=1, default=str)
    )
    print(md)
    ok = all(
        meets(Score(**{**x["score"], "misses": [], "false": []})) for x in results if x["system"] == "sodav"
    )
    return 0 if ok or args.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
