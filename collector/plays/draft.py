"""A play in the making: the segments behind it, their matches, its alignment and its status.

The play assembly works on these plain values, without a database: :mod:`collector.plays.chaining`
groups matched segments into drafts, :mod:`collector.plays.boundaries` sets each draft's start
and end, :mod:`collector.plays.service` stores them as plays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from shared.chroma import ppm_to_rate
from shared.codec import DecodedSegment


@dataclass(frozen=True)
class SegmentMatchInfo:
    recording_id: int
    offset_s: float  # recording seconds at value_start
    value_start: datetime
    rate_ppm: int
    score: float
    guided: bool = False  # confirmed at the play's predicted alignment, not found by the matcher


@dataclass(frozen=True)
class SegInfo:
    id: int
    start: datetime
    end: datetime
    match: SegmentMatchInfo | None


@dataclass
class PlayDraft:
    recording_id: int
    rate_ppm: int
    anchor_time: datetime  # broadcast instant where the recording is at anchor_offset
    anchor_offset: float
    segments: list[SegInfo] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    alternate_id: int | None = None  # a near-duplicate version the play also matches, less well

    @property
    def rate(self) -> float:
        return ppm_to_rate(self.rate_ppm)

    def offset_at(self, t: datetime) -> float:
        return self.anchor_offset + (t - self.anchor_time).total_seconds() * self.rate

    def time_at(self, offset: float) -> datetime:
        return self.anchor_time + timedelta(seconds=(offset - self.anchor_offset) / self.rate)

    @property
    def matched(self) -> list[SegInfo]:
        return [s for s in self.segments if s.match is not None]

    @property
    def found(self) -> list[SegInfo]:
        """Segments the matcher itself named (not confirmed by guided verification)."""
        return [s for s in self.segments if s.match is not None and not s.match.guided]

    @property
    def confidence(self) -> float:
        """Mean score of the segments the matcher named (confirmed ones do not lower it)."""
        scores = [s.match.score for s in self.found if s.match]
        return float(np.mean(scores)) if scores else 0.0

    def matched_fraction(self) -> float:
        """The share of the play's time its matched segments cover (overlapping segments once)."""
        assert self.start and self.end
        total = (self.end - self.start).total_seconds()
        covered = covered_seconds(((s.start, s.end) for s in self.matched), self.start, self.end)
        return min(1.0, covered / total) if total > 0 else 0.0


def covered_seconds(spans: Iterable[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> float:
    """Seconds of [lo, hi) inside the union of ``spans``: time heard twice counts once.

    After an agent's crash the first segments of its next run repeat up to a burst of audio
    (Icecast's burst-on-connect, an HLS playlist's last segments): summing durations would
    count that audio twice.
    """
    total, reach = 0.0, lo
    for start, end in sorted(spans):
        start, end = max(start, reach), min(end, hi)
        if end > start:
            total += (end - start).total_seconds()
            reach = end
    return total


def distinct_windows(segments: Iterable[SegInfo]) -> int:
    """How many of the segments hold audio of their own: one that mostly repeats audio already
    counted (a new run's burst over the previous run's last segment) adds no evidence."""
    n, reach = 0, datetime.min.replace(tzinfo=UTC)
    for s in sorted(segments, key=lambda s: s.start):
        if (s.end - max(s.start, reach)) > (s.end - s.start) / 2:
            n += 1
        reach = max(reach, s.end)
    return n


ValuesOf = Callable[[int, int], DecodedSegment | None]  # (segment_id, rate_ppm) -> fingerprint
