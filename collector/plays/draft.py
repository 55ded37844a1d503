"""A play in the making: the segments behind it, their matches, its alignment and its status.

The play assembly works on these plain values, without a database: :mod:`collector.plays.chaining`
groups matched segments into drafts, :mod:`collector.plays.boundaries` sets each draft's start
and end, :mod:`collector.plays.service` stores them as plays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from shared.chroma import ppm_to_rate
from shared.codec import DecodedSegment

QUIET_BEFORE_FINAL = timedelta(minutes=5)


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
        assert self.start and self.end
        total = (self.end - self.start).total_seconds()
        covered = sum(
            max(0.0, (min(s.end, self.end) - max(s.start, self.start)).total_seconds()) for s in self.matched
        )
        return min(1.0, covered / total) if total > 0 else 0.0


ValuesOf = Callable[[int, int], DecodedSegment | None]  # (segment_id, rate_ppm) -> fingerprint


def play_status(end: datetime, latest: datetime, final_all: bool = False) -> str:
    """A play is final once the station has been heard ``QUIET_BEFORE_FINAL`` past its end."""
    return "final" if final_all or latest - end > QUIET_BEFORE_FINAL else "open"
