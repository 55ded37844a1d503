"""What tells a song heard at a voice-over's BER from unrelated audio, on the benchmark's stations.

    python -m bench.accuracy.faint --out /tmp/accuracy /tmp/accuracy-seed8 --name final

Reads what ``bench.accuracy.run`` left in ``--out`` (each station's truth and its ``analyze``
database) and prints, over all stations:

* **unrelated audio at its worst alignment**: every 30-s span (every third window) of every
  stretch of at least 4 windows of unrelated audio (off-catalog music, speech, ads) against
  every catalog recording at the span's 3 best alignments (more than a seed can propose), and
  each window beyond the span along that alignment: the windows' BER, the lowest mean and
  the lowest worst window over k consecutive windows, and how many of these hypotheses the
  sequential test's two models (:func:`collector.plays.sequential.window_llr`,
  :func:`~collector.plays.sequential.faint_llr`) would sum to ``ACCEPT_LLR``;
* **the true songs heard faintest**: their windows' mean and worst BER at the true alignment;
* **anchors**: pairs of the matcher's own matches of one recording in step (within 3 s, less
  than 400 s apart) with one of them on unrelated audio, and how far from each other's
  alignment the true pairs lie.

Slow (about a minute per station): it scans every recording for every span.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.accuracy.evidence import T0, stations
from bench.accuracy.radio import PROFILES
from collector.plays.draft import PlayDraft, SegInfo, ValuesOf
from collector.plays.guided import best_offsets, continuation_ber
from collector.plays.sequential import ACCEPT_LLR, DROP_LLR, faint_llr, window_llr

RUNS = (2, 4, 6, 8, 10, 12, 15)


def _sides(bers: list[float | None], p: int) -> list[list[float]]:
    """The windows before (nearest first) and after the span at ``p``, up to where the
    recording is over at the hypothesis's alignment."""
    out = []
    for side in (bers[:p][::-1], bers[p + 3 :]):
        run: list[float] = []
        for x in side:
            if x is None:
                break
            run.append(x)
        out.append(run)
    return out


def _summed(sides: list[list[float]], llr: Callable[[float | None], float]) -> float:
    """What the sequential test sums along both sides (the best of each, ``DROP_LLR``)."""
    total = 0.0
    for side in sides:
        best = s = 0.0
        for x in side:
            s += llr(x)
            best = max(best, s)
            if s < best - DROP_LLR:
                break
        total += best
    return total


def _clear(s: SegInfo, songs: list[dict[str, str]]) -> bool:
    """Whether the segment overlaps no catalog song."""
    a, b = (s.start - T0).total_seconds(), (s.end - T0).total_seconds()
    return not any(float(t["start_s"]) < b and float(t["end_s"]) > a for t in songs)


def _unrelated(segs: list[SegInfo], songs: list[dict[str, str]]) -> list[list[SegInfo]]:
    """Stretches of at least 4 contiguous windows that overlap no catalog song."""
    runs: list[list[SegInfo]] = []
    cur: list[SegInfo] = []
    for s in segs:
        if _clear(s, songs) and (not cur or (s.start - cur[-1].end).total_seconds() <= 2.0):
            cur.append(s)
            continue
        if len(cur) >= 4:
            runs.append(cur)
        cur = [s] if _clear(s, songs) else []
    if len(cur) >= 4:
        runs.append(cur)
    return runs


def _null(
    run: list[SegInfo], recs: dict[int, tuple[str, np.ndarray]], rate: int, values_of: ValuesOf
) -> list[list[list[float]]]:
    out = []
    for p in range(0, len(run) - 2, 3):
        fps = [values_of(s.id, rate) for s in run[p : p + 3]]
        if any(f is None or f.values.size == 0 for f in fps):
            continue
        values = np.concatenate([f.values for f in fps if f is not None])
        start = fps[0].start if fps[0] is not None else run[p].start
        for rid, (_ext, ref) in recs.items():
            for off in best_offsets(values, ref, 3, 1.0, 2.0, 120):
                d = PlayDraft(rid, rate, start, off)
                bers = [
                    None if p <= j < p + 3 else continuation_ber(s, d, ref, values_of)
                    for j, s in enumerate(run)
                ]
                out.append(_sides(bers, p))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.accuracy.faint", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, nargs="+")
    p.add_argument("--name", default="results")
    p.add_argument("--profiles", default=",".join(pr.name for pr in PROFILES))
    args = p.parse_args(argv)
    hyps: list[list[list[float]]] = []
    faintest: list[tuple[float, float, int, str]] = []
    false_pairs, steps = 0, []
    for out, profile, (recs, _fps, segs), values_of, rate in stations(args.out, args.name, args.profiles):
        sdir = out / profile.name
        with (sdir / "truth.csv").open(newline="") as fh:
            songs = [t for t in csv.DictReader(fh) if t["kind"] == "song"]
        for run in _unrelated(segs, songs):
            hyps += _null(run, recs, rate, values_of)
        by_ext = {ext: (rid, v) for rid, (ext, v) in recs.items()}
        for t in songs:
            if t["external_id"] not in by_ext:
                continue
            rid, ref = by_ext[t["external_id"]]
            d = PlayDraft(rid, rate, T0 + timedelta(seconds=float(t["start_s"])), float(t["offset_s"]))
            t0, t1 = float(t["start_s"]) - 1, float(t["end_s"]) + 1
            xs = [
                x
                for s in segs
                if (s.start - T0).total_seconds() >= t0 and (s.end - T0).total_seconds() <= t1
                if (x := continuation_ber(s, d, ref, values_of)) is not None
            ]
            if len(xs) >= 3:
                faintest.append(
                    (float(np.mean(xs)), max(xs), len(xs), f"{out.name}/{profile.name} {t['path']}")
                )
        # each match with the next match of the same recording (windows between them)
        found = [(k, s) for k, s in enumerate(segs) if s.match is not None and s.match.score >= 0.75]
        for x, (i, s) in enumerate(found):
            assert s.match is not None
            rid = s.match.recording_id
            j, u = next(
                ((j, u) for j, u in found[x + 1 :] if u.match and u.match.recording_id == rid), (i, s)
            )
            if j <= i + 1 or (u.start - s.end).total_seconds() > 400 or u.match is None:
                continue
            d = PlayDraft(rid, s.match.rate_ppm, s.match.value_start, s.match.offset_s)
            step = abs(d.offset_at(u.match.value_start) - u.match.offset_s)
            if step > 3.0:
                continue
            if _clear(s, songs) or _clear(u, songs):
                false_pairs += 1
            else:
                steps.append(step)
    windows = np.array([x for h in hyps for side in h for x in side])
    print(
        f"unrelated audio: {len(hyps)} hypotheses, {windows.size} windows, "
        f"mean {windows.mean():.3f} sd {windows.std():.3f}"
    )
    for q in (0.40, 0.41, 0.43, 0.445):
        print(f"  windows <= {q}: {(windows <= q).mean():.2%}")
    for k in RUNS:
        means = [np.mean(side[i : i + k]) for h in hyps for side in h for i in range(len(side) - k + 1)]
        tops = [max(side[i : i + k]) for h in hyps for side in h for i in range(len(side) - k + 1)]
        print(
            f"  {k} windows: lowest mean {min(means, default=1.0):.3f}, "
            f"lowest worst window {min(tops, default=1.0):.3f}"
        )
    for name, llr in (("window_llr", window_llr), ("faint_llr", faint_llr)):
        sums = np.array([_summed(h, llr) for h in hyps])
        print(f"  {name}: {(sums >= ACCEPT_LLR).sum()} hypotheses reach {ACCEPT_LLR}, max {sums.max():.1f}")
    print("true songs heard faintest (mean, worst window, windows):")
    for mean, worst, n, what in sorted(faintest, reverse=True)[:6]:
        print(f"  {mean:.3f} {worst:.3f} {n} {what}")
    print(
        f"anchors: {false_pairs} pairs in step with one match on unrelated audio; {len(steps)} true pairs, "
        f"the farthest {max(steps, default=0.0):.2f} s from each other's alignment"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
