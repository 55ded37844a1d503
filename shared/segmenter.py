"""Cut a continuous run of audio into fingerprint segments, the same way on both sides.

The agent feeds live PCM; the collector's offline analysis feeds decoded files; both get
identical segments. A *run* is audio without a gap: it starts at a UTC instant taken from
the capture clock, and every later time is derived from sample counts, never from the
wall clock, so nothing drifts and nothing is stitched over a gap (start a new run instead).

Segment ``k`` of a run covers broadcast time ``[k·L, (k+1)·L)`` after the run start. For
each playback-rate variant it holds the Chromaprint values whose time falls in that span;
value ``i`` of a variant is at ``i · item_duration(rate)`` seconds into the run.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.chroma import StreamFingerprinter, item_duration
from shared.codec import FingerprintSegment
from shared.pcm import Pcm, as_pcm, dbfs

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Segment", "Segmenter"]


@dataclass(frozen=True)
class Segment:
    """One segment of a run: nominal span plus one fingerprint per rate variant."""

    index: int
    start: datetime
    duration: float
    level_dbfs: float | None
    fingerprints: list[FingerprintSegment[array[int]]]


class _Variant:
    def __init__(self, sample_rate: int, rate_ppm: int, origin: float = 0.0) -> None:
        self.fp = StreamFingerprinter(sample_rate, rate_ppm)
        self.rate_ppm = rate_ppm
        self.step = item_duration(rate_ppm)
        self.origin = origin  # run time of this variant's first sample
        self.pending: array[int] = array("I")
        self.first_index = 0  # run-wide index of pending[0]

    def pull(self, final: bool = False) -> None:
        new = self.fp.finish() if final else self.fp.take()
        self.pending.extend(new)

    def available_until(self) -> float:
        """Run time up to which this variant's values are known."""
        return self.origin + (self.first_index + len(self.pending)) * self.step

    def time_of(self, index: int) -> float:
        return self.origin + index * self.step

    def cut(self, t_end: float) -> tuple[int, array[int]]:
        """Remove and return values whose time is < t_end, with the variant index of the first."""
        n_before = math.ceil((t_end - self.origin) / self.step - 1e-9) - self.first_index
        n = max(0, min(len(self.pending), n_before))
        first = self.first_index
        out = self.pending[:n]
        del self.pending[:n]
        self.first_index += n
        return first, out


class Segmenter:
    """Feed mono int16 PCM of one run; collect :class:`Segment` objects as they complete.

    PCM comes as :class:`shared.pcm.Pcm` blocks (the agent) or numpy int16 arrays (the
    collector's tools); segment values come out as ``array('I')``.
    """

    def __init__(
        self,
        sample_rate: int,
        segment_seconds: float,
        rate_variants_ppm: list[int],
        run_start: datetime,
        *,
        min_last_seconds: float = 2.0,
    ) -> None:
        if run_start.tzinfo is None:
            raise ValueError("run_start must be timezone-aware")
        self.sample_rate = sample_rate
        self.length = segment_seconds
        self.run_start = run_start
        self.min_last = min_last_seconds
        self._variants = [_Variant(sample_rate, r) for r in dict.fromkeys(rate_variants_ppm)]
        self._wanted: list[int] | None = None
        self._next = 0
        self._samples = 0
        self._sq = 0.0  # sum of squares for the level of the current segment
        self._sq_n = 0

    @property
    def rate_variants_ppm(self) -> list[int]:
        return [v.rate_ppm for v in self._variants]

    def set_variants(self, rate_variants_ppm: list[int]) -> None:
        """Change variants; takes effect at the next segment boundary of this run."""
        self._wanted = list(dict.fromkeys(rate_variants_ppm))

    @property
    def seconds_fed(self) -> float:
        return self._samples / self.sample_rate

    def feed(self, pcm: Pcm | npt.NDArray[np.int16]) -> list[Segment]:
        block = as_pcm(pcm)
        if not block.samples:
            return []
        for v in self._variants:
            v.fp.feed(block)
        self._samples += block.samples
        self._sq += block.sum_squares
        self._sq_n += block.samples
        return self._emit(final=False)

    def finish(self) -> list[Segment]:
        """End of the run: flush Chromaprint and emit the last, possibly shorter, segment."""
        return self._emit(final=True)

    def _level(self) -> float | None:
        if self._sq_n == 0:
            return None
        level = dbfs(self._sq, self._sq_n)
        self._sq, self._sq_n = 0.0, 0
        return level

    def _emit(self, final: bool) -> list[Segment]:
        for v in self._variants:
            v.pull(final)
        out: list[Segment] = []
        fed = self.seconds_fed
        while True:
            t0 = self._next * self.length
            t1 = t0 + self.length
            ready = fed >= t1 and all(v.available_until() >= t1 for v in self._variants)
            if not ready:
                if final and fed - t0 >= self.min_last:
                    t1 = fed
                else:
                    break
            out.append(self._make(t0, min(t1, fed)))
            self._next += 1
            if self._wanted is not None:
                self._apply_wanted()
            if t1 >= fed:
                break
        return out

    def _apply_wanted(self) -> None:
        wanted, self._wanted = self._wanted, None
        assert wanted is not None
        keep = {v.rate_ppm: v for v in self._variants}
        # kept variants continue; new ones start with the audio fed from now on (their
        # first segment is therefore partial); dropped ones stop here.
        self._variants = [keep.get(r) or _Variant(self.sample_rate, r, self.seconds_fed) for r in wanted]

    def _make(self, t0: float, t1: float) -> Segment:
        fps = []
        for v in self._variants:
            first, values = v.cut(t1)
            fps.append(
                FingerprintSegment(
                    values=values,
                    start=self.run_start + timedelta(seconds=v.time_of(first)),
                    sample_rate=self.sample_rate,
                    n_samples=round(len(values) * v.step * self.sample_rate),
                    rate_ppm=v.rate_ppm,
                )
            )
        return Segment(
            index=self._next,
            start=self.run_start + timedelta(seconds=t0),
            duration=t1 - t0,
            level_dbfs=self._level(),
            fingerprints=fps,
        )
