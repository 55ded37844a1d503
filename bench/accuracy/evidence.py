"""What a window's bit error rate says, measured on the benchmark's stations.

    python -m bench.accuracy.evidence --out /tmp/accuracy [/tmp/accuracy-seed8 ...] --name results
    python -m bench.accuracy.evidence --out /tmp/accuracy /tmp/accuracy-seed8 --name results --conditions

Reads what ``bench.accuracy.run`` left in ``--out`` (each station's truth and its ``analyze``
database) and prints, per profile:

* the BER of catalog-song windows at their true alignment (by condition: plain, under a
  talk-over, in a teaser, a remaster), the figures :mod:`collector.plays.sequential` models;
* the BER of windows of unrelated audio (off-catalog music, speech, ads, jingles) against a
  random catalog recording at a random alignment (best of ±2 values): the null;
* the sequential test run over the station's stored segments: how many windows it names, and
  how many of those lie on audio that is not the named recording (false).

With ``--conditions``: per condition (station chain, talk-over, teaser, remaster, ...), how far
the plays' starts and ends fall from the truth, and their confidence and matched fraction.
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.accuracy.radio import PROFILES
from collector.matching.index import CatalogIndex
from collector.plays.draft import PlayDraft, SegInfo, SegmentMatchInfo, ValuesOf
from collector.plays.guided import continuation_ber
from collector.plays.sequential import accumulate
from shared.codec import DecodedSegment, decode

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _load(db: Path) -> tuple:  # type: ignore[type-arg]
    con = sqlite3.connect(db)
    recs = {
        rid: (ext, decode(fp).values)
        for rid, ext, fp in con.execute("select id, external_id, fingerprint from recordings")
    }
    fps: dict[tuple[int, int], bytes] = {}
    for sid, rate, data in con.execute("select segment_id, rate_ppm, data from segment_fingerprints"):
        fps[(sid, rate)] = data
    segs = []
    for sid, start, dur, rid, off, vstart, rate, score in con.execute(
        "select s.id, s.start, s.duration, m.recording_id, m.offset_s, m.value_start, m.rate_ppm, m.score "
        "from segments s left join segment_matches m on m.segment_id = s.id order by s.start"
    ):
        t = datetime.fromisoformat(start).replace(tzinfo=UTC)
        match = None
        if rid is not None:
            vt = datetime.fromisoformat(vstart).replace(tzinfo=UTC)
            match = SegmentMatchInfo(rid, off, vt, rate, score)
        segs.append(SegInfo(sid, t, t + timedelta(seconds=dur), match))
    return recs, fps, segs


def _values_of(fps: dict[tuple[int, int], bytes]) -> ValuesOf:
    cache: dict[tuple[int, int], DecodedSegment | None] = {}

    def values_of(sid: int, rate: int) -> DecodedSegment | None:
        if (sid, rate) not in cache:
            blob = fps.get((sid, rate))
            cache[(sid, rate)] = decode(blob) if blob is not None else None
        return cache[(sid, rate)]

    return values_of


def stations(outs: list[Path], name: str, profiles: str) -> Iterator[tuple]:  # type: ignore[type-arg]
    """Each analysed station of the runs in ``outs`` (``profiles``, comma-separated): its run,
    its profile, what :func:`_load` reads from its ``collector-NAME.db``, its fingerprints'
    loader and the rate variant nearest its speed."""
    for out in outs:
        for profile in [pr for pr in PROFILES if pr.name in profiles.split(",")]:
            db = out / profile.name / f"collector-{name}.db"
            if not db.exists():
                continue
            loaded = _load(db)
            fps = loaded[1]
            rate = min({r for _, r in fps}, key=lambda r: abs(r - (profile.speed - 1) * 1e6))
            yield out, profile, loaded, _values_of(fps), rate


CONDITIONS = ("talk-over", "voice-over", "teaser", "mid-start", "cut", "crossfade")


def conditions(outs: list[Path], name: str, profiles: list[str]) -> None:
    """Per condition (a station chain, or what the programme did to the song), how far the
    paired plays' boundaries fall from the truth, and the confidence and matched fraction they
    carry: what docs/analyst/how-matching-works says an analyst may expect."""
    rows: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    for out in outs:
        for profile in profiles:
            sdir = out / profile
            plays_csv = sdir / f"plays-{name}.csv"
            if not plays_csv.exists():
                continue
            with (sdir / "truth.csv").open(newline="") as fh:
                truth = [t for t in csv.DictReader(fh) if t["kind"] == "song"]
            with plays_csv.open(newline="") as fh:
                plays = list(csv.DictReader(fh))
            used: set[int] = set()
            for t in truth:
                t0, t1 = float(t["start_s"]), float(t["end_s"])
                best, overlap = None, 0.0
                for j, pl in enumerate(plays):
                    a = (datetime.fromisoformat(pl["start"].replace("Z", "+00:00")) - T0).total_seconds()
                    b = (datetime.fromisoformat(pl["end"].replace("Z", "+00:00")) - T0).total_seconds()
                    o = min(b, t1) - max(a, t0)
                    if pl["external_id"] == t["external_id"] and o > overlap and j not in used:
                        best, overlap = (j, a, b), o
                if best is None:
                    continue
                j, a, b = best
                used.add(j)
                fig = (
                    abs(a - t0),
                    abs(b - t1),
                    float(plays[j]["confidence"]),
                    float(plays[j]["matched_fraction"]),
                )
                rows[f"chain: {profile}"].append(fig)
                for c in CONDITIONS:
                    if c in t["note"]:
                        rows[c].append(fig)
                if "remaster" in t["path"]:
                    rows["remaster aired"].append(fig)
                if not any(c in t["note"] for c in CONDITIONS):
                    rows["whole song, nothing over it"].append(fig)
    print(
        "| condition | plays | start err median / p90 (s) | end err median / p90 (s) "
        "| confidence median (p10) | matched fraction median (p10) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for cond, figs in sorted(rows.items()):
        x = np.array(figs)
        start, end, conf, frac = (np.percentile(x[:, c], [50, 90, 10]) for c in range(4))
        print(
            f"| {cond} | {len(figs)} | {start[0]:.1f} / {start[1]:.1f} | {end[0]:.1f} / {end[1]:.1f} | "
            f"{conf[0]:.2f} ({conf[2]:.2f}) | {frac[0]:.2f} ({frac[2]:.2f}) |"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.accuracy.evidence", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, nargs="+")
    p.add_argument("--name", default="results")
    p.add_argument("--profiles", default=",".join(pr.name for pr in PROFILES))
    p.add_argument("--conditions", action="store_true", help="only the per-condition table of plays")
    args = p.parse_args(argv)
    if args.conditions:
        conditions(args.out, args.name, args.profiles.split(","))
        return 0
    rng = random.Random(1)
    for out, profile, (recs, _fps, segs), values_of, rate in stations(args.out, args.name, args.profiles):
        sdir = out / profile.name
        by_ext = {ext: (rid, v) for rid, (ext, v) in recs.items()}
        with (sdir / "truth.csv").open(newline="") as fh:
            truth = list(csv.DictReader(fh))
        ber: dict[str, list[float]] = defaultdict(list)
        null: list[float] = []
        owner: dict[int, int | None] = {}
        rec_ids = list(recs)
        for s in segs:
            a, b = (s.start - T0).total_seconds(), (s.end - T0).total_seconds()
            item = next(
                (t for t in truth if float(t["start_s"]) <= a + 1 and float(t["end_s"]) >= b - 1), None
            )
            if item is not None and item["kind"] == "song" and item["external_id"] in by_ext:
                rid, ref = by_ext[item["external_id"]]
                owner[s.id] = rid
                draft = PlayDraft(
                    rid, rate, T0 + timedelta(seconds=float(item["start_s"])), float(item["offset_s"])
                )
                x = continuation_ber(s, draft, ref, values_of)
                if x is not None:
                    note = item["note"]
                    cond = next((c for c in ("talk-over", "teaser", "voice-over") if c in note), "plain")
                    if "remaster" in item["path"]:
                        cond += ", remaster"
                    ber[cond].append(x)
                continue
            straddles = any(
                float(t["start_s"]) < b and float(t["end_s"]) > a for t in truth if t["kind"] == "song"
            )
            owner[s.id] = -1 if straddles else None
            if straddles:
                continue
            rid = rng.choice(rec_ids)
            ref = recs[rid][1]
            draft = PlayDraft(rid, rate, s.start, rng.uniform(0, max(1.0, ref.size * 0.124 - 12)))
            x = continuation_ber(s, draft, ref, values_of)
            if x is not None:
                null.append(x)
        print(f"## {out} {profile.name} (rate {rate} ppm, {len(segs)} segments)")
        for cond, xs in sorted(ber.items()):
            q = np.percentile(xs, [10, 50, 90])
            print(f"  true, {cond}: n={len(xs)} p10/50/90 = {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}")
        if null:
            arr = np.array(null)
            q = np.percentile(arr, [1, 10, 50])
            print(
                f"  null: n={arr.size} mean {arr.mean():.3f} sd {arr.std():.3f} p1/10/50 = "
                f"{q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}; ≤0.40: {(arr <= 0.40).mean():.4f}"
            )
        index = CatalogIndex()
        for rid, (_ext, v) in recs.items():
            index.add(rid, v)
        index.build()
        named = accumulate(segs, index, {rid: v for rid, (_e, v) in recs.items()}, values_of)
        new = [(o, n) for o, n in zip(segs, named, strict=True) if o.match is None and n.match is not None]
        right = sum(1 for _o, n in new if n.match and owner.get(n.id) == n.match.recording_id)
        off = sum(1 for _o, n in new if owner.get(n.id) is None)
        print(
            f"  sequential test: {len(new)} windows named, {right} right, "
            f"{off} on audio of no catalog song (false), {len(new) - right - off} straddling or other"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
