"""Guided verification: does a segment agree with a play's recording where the play says it is?

One recording tested at one predicted alignment agrees by chance far less often than the best
of a whole catalog does, so a segment the matcher did not name (through an AM band, under a
voice-over) can still be confirmed as part of a play, with the looser ``GUIDED_MAX_BER``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from collector.fpmath import ber_profile, bit_errors
from collector.plays.draft import PlayDraft, SegInfo, SegmentMatchInfo, ValuesOf
from shared.chroma import item_duration
from shared.codec import DecodedSegment

CONTINUE_MIN_VALUES = 40
# Guided verification: one recording tested at one predicted alignment (±2 values), so the
# threshold can be far looser than a blind catalog search's. Measured (docs/benchmarks.md):
# a 10-s segment against a random recording at a random alignment (best of ±2 values) is at
# or below 0.32 in 0.04 % of trials (37 of 87 880 over the six benchmark stations), while the
# true audio through an AM band sits at 0.15-0.30, where the blind search often finds nothing.
GUIDED_MAX_BER = 0.32
SHIFTS = np.array([0, -1, 1, -2, 2], dtype=np.float64)  # values either side of the draft's alignment


def guided(
    seg: SegInfo, draft: PlayDraft, ref: npt.NDArray[np.uint32], values_of: ValuesOf
) -> SegInfo | None:
    """``seg`` as part of the draft's play when it agrees at the predicted alignment, else None.

    Guided verification: the segment is tested against one recording at one alignment (the
    draft's, ±2 values), so ``GUIDED_MAX_BER`` can be much looser than the matcher's blind
    threshold. A segment named as another recording that fits better is never taken.
    """
    ber = continuation_ber(seg, draft, ref, values_of)
    if ber is None or ber > GUIDED_MAX_BER:
        return None
    if seg.match is not None and seg.match.recording_id != draft.recording_id and seg.match.score > 1 - ber:
        return None
    fp = values_of(seg.id, draft.rate_ppm)
    assert fp is not None
    info = SegmentMatchInfo(
        draft.recording_id, draft.offset_at(fp.start), fp.start, draft.rate_ppm, 1.0 - ber, guided=True
    )
    return SegInfo(seg.id, seg.start, seg.end, info)


def continuation_ber(
    seg: SegInfo, draft: PlayDraft, ref: npt.NDArray[np.uint32], values_of: ValuesOf
) -> float | None:
    """Bit error rate of ``seg`` against the draft's recording where the draft says it should be.

    ``None`` when the segment has no fingerprint at the draft's rate, or when the predicted
    position falls (mostly) outside the recording (the song is over).
    """
    fp = values_of(seg.id, draft.rate_ppm)
    if fp is None or fp.values.size == 0:
        return None
    secs = _seconds_from(fp, draft.anchor_time)
    # the draft's rate is a sweep variant, maybe 0.3 % off the true one: over a minute its
    # alignment drifts by a value or two, so look one or two values either side (all at once)
    anchors = draft.anchor_offset + SHIFTS * item_duration(0)
    errs = _errors(fp, ref, anchors[:, None], draft.rate, secs)
    inside = errs < 1.0  # out-of-range values are marked 1.0
    counts = inside.sum(axis=1)
    ok = counts >= CONTINUE_MIN_VALUES
    if not ok.any():
        return None
    # errors are whole bits over 32: every sum is exact, so this is each shift's mean, to the bit
    bers = errs.sum(axis=1, where=inside)[ok] / counts[ok]
    return float(bers.min())


def agreement(
    fp: DecodedSegment, ref: npt.NDArray[np.uint32], draft: PlayDraft
) -> tuple[list[datetime], npt.NDArray[np.float64]]:
    """Per-value bit error fraction against the recording, under the draft's alignment (1.0
    where the alignment falls outside it), and each value's time."""
    step = item_duration(fp.rate_ppm)
    times = [fp.start + timedelta(seconds=i * step) for i in range(fp.values.size)]
    secs = _seconds_from(fp, draft.anchor_time)
    return times, _errors(fp, ref, draft.anchor_offset, draft.rate, secs)


def _seconds_from(fp: DecodedSegment, anchor: datetime) -> npt.NDArray[np.float64]:
    """Each value's time, in seconds after ``anchor``: what ``(t - anchor).total_seconds()``
    gives for ``t = fp.start + timedelta(seconds=i * step)``, to the bit (both count whole
    microseconds), for all values at once."""
    step = item_duration(fp.rate_ppm)
    us = np.round(np.arange(fp.values.size) * step * 1e6).astype(np.int64)
    d0 = fp.start - anchor
    us += (d0.days * 86_400 + d0.seconds) * 1_000_000 + d0.microseconds
    return us / 1e6


def _errors(
    fp: DecodedSegment,
    ref: npt.NDArray[np.uint32],
    anchor_offset: float | npt.NDArray[np.float64],
    rate: float,
    secs: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Per-value bit error fraction of ``fp`` against ``ref`` where the recording is at
    ``anchor_offset + secs * rate`` (:meth:`PlayDraft.offset_at`); 1.0 outside the recording. A
    column of anchor offsets gives a row for each."""
    idx = np.round((anchor_offset + secs * rate) / item_duration(0)).astype(np.int64)
    ok = (idx >= 0) & (idx < ref.size)
    errs = np.full(idx.shape, 32.0)  # out of the recording: every bit wrong
    if ok.any():
        values = np.broadcast_to(fp.values, idx.shape)
        errs[ok] = bit_errors(values[ok], ref[idx[ok]]).astype(np.float64)
    return errs / 32.0


def best_offsets(
    values: npt.NDArray[np.uint32],
    ref: npt.NDArray[np.uint32],
    top: int,
    max_ber: float = 1.0,
    apart_s: float = 2.0,
    min_overlap: int = CONTINUE_MIN_VALUES,
) -> list[float]:
    """The recording offsets (seconds at the first of ``values``) where ``values`` agree best
    with ``ref`` (over at least ``min_overlap`` values), up to ``top`` of them at least
    ``apart_s`` apart, within ``max_ber``: looping music agrees in several places, one per repeat."""
    bers = ber_profile(values, ref, min_overlap)
    lead = values.size - min_overlap
    out: list[float] = []
    for k in np.argsort(bers, kind="stable"):
        if bers[k] > max_ber or len(out) >= top:
            break
        off = (int(k) - lead) * item_duration(0)
        if all(abs(off - o) > apart_s for o in out):
            out.append(off)
    return out
