"""Score detected plays against the ground truth, the way a royalty analyst would.

* a detection is *correct* when it names the recording of a truth play and overlaps it in
  time; each truth play is paired with at most one detection (the largest overlap), so a
  play reported in two fragments scores one correct and one false detection;
* **recall** = paired truth plays / truth plays of catalog songs;
* **precision** = paired detections / all detections (fragments, off-catalog music named as
  something, plays during speech: all false);
* **start/end error**: |detected − true| boundary, in seconds, over paired plays;
* **airtime ratio** = total detected airtime / total true airtime of catalog songs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    key: str  # recording identity (the catalog external_id)
    start: float
    end: float


@dataclass(frozen=True)
class Score:
    truth: int
    detected: int
    paired: int
    recall: float
    precision: float
    start_median: float
    start_p90: float
    end_median: float
    end_p90: float
    airtime_ratio: float
    misses: list[Interval]
    false: list[Interval]


def score(truth: list[Interval], detected: list[Interval]) -> Score:
    pairs: list[tuple[float, int, int]] = []
    for i, t in enumerate(truth):
        for j, d in enumerate(detected):
            overlap = min(t.end, d.end) - max(t.start, d.start)
            if d.key == t.key and overlap > 0:
                pairs.append((overlap, i, j))
    pairs.sort(reverse=True)
    used_t: set[int] = set()
    used_d: set[int] = set()
    starts: list[float] = []
    ends: list[float] = []
    for _, i, j in pairs:
        if i in used_t or j in used_d:
            continue
        used_t.add(i)
        used_d.add(j)
        starts.append(abs(detected[j].start - truth[i].start))
        ends.append(abs(detected[j].end - truth[i].end))
    true_air = sum(t.end - t.start for t in truth)
    det_air = sum(d.end - d.start for d in detected)

    def q(x: list[float], p: float) -> float:
        return float(np.percentile(x, p)) if x else float("nan")

    return Score(
        truth=len(truth),
        detected=len(detected),
        paired=len(used_t),
        recall=len(used_t) / len(truth) if truth else 1.0,
        precision=len(used_d) / len(detected) if detected else 1.0,
        start_median=q(starts, 50),
        start_p90=q(starts, 90),
        end_median=q(ends, 50),
        end_p90=q(ends, 90),
        airtime_ratio=det_air / true_air if true_air else float("nan"),
        misses=[t for i, t in enumerate(truth) if i not in used_t],
        false=[d for j, d in enumerate(detected) if j not in used_d],
    )


TARGETS = {"recall": 0.99, "precision": 0.99, "p90_s": 3.0, "airtime": 0.02}


def meets(s: Score) -> bool:
    return (
        s.recall >= TARGETS["recall"]
        and s.precision >= TARGETS["precision"]
        and s.start_p90 <= TARGETS["p90_s"]
        and s.end_p90 <= TARGETS["p90_s"]
        and abs(s.airtime_ratio - 1) <= TARGETS["airtime"]
    )
