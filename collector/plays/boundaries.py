"""Boundaries: where a play starts and ends, to about a second, and crossfades.

Backwards, segment by segment while the segments before the first match are confirmed
(guided verification), then value by value in the segments before those; forwards, value by
value from the last matched or confirmed segment. Start and end so land within about a
second of the truth rather than on a segment boundary, even through an AM band where the
matcher names only two segments in three. Overlapping plays (crossfades) are trimmed to meet
in the middle of the overlap.
"""

from __future__ import annotations

import bisect
import itertools
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from collector.plays.draft import PlayDraft, SegInfo, ValuesOf
from collector.plays.guided import agreement, guided
from collector.plays.talkover import bridge_back
from shared.chroma import item_duration

EDGE_WINDOW = 12  # values (~1.5 s) smoothed when extending a boundary
EDGE_MAX_BER = 0.33
# a stretch this long (values, ~3 s) that disagrees does not end an edge when agreement resumes
# after it: through an AM band a bar of hiss or a voice-over breath lifts the smoothed BER over
# the edge's bound for a second or two; unrelated audio (0.49 on average) stays over it
EDGE_GAP = 2 * EDGE_WINDOW
UNRELATED_BER = 0.49  # a value of other audio at the play's alignment, on average (measured)
BACK_SEGMENTS = 3  # how far before the first match a masked intro is looked for
# Chromaprint's delay: value i is computed from the audio in [i·step, i·step + 2.6 s]
# (28 666 samples at 11 025 Hz, chromaprint_get_delay), so the fingerprint of a file ends
# 2.6 s before its audio does, and a play's last agreeing value is that far from its end.
VALUE_SPAN_S = 28666 / 11025
MAX_SEGMENT = timedelta(hours=1)  # the wire schema's bound on a segment's duration


def _smooth(x: npt.NDArray[np.float64], w: int) -> npt.NDArray[np.float64]:
    """Moving average; the edges repeat the first/last value (zeros would read as agreement)."""
    if x.size == 0:
        return x
    w = max(1, min(w, x.size))
    padded = np.pad(x, (w // 2, w - 1 - w // 2), mode="edge")
    return np.convolve(padded, np.ones(w) / w, mode="valid")


def edge_max_ber(draft: PlayDraft) -> float:
    """How far a value may disagree (smoothed) and still count as the play's audio at an edge.

    ``EDGE_MAX_BER``, or half-way between the play's own typical BER and unrelated audio's
    when the play is heard through a chain that bad (an AM band at 0.25-0.35): otherwise its
    edges would stop at the first noisy second, up to a window short.
    """
    bers = [1.0 - s.match.score for s in draft.matched if s.match is not None]
    typical = float(np.median(bers)) if bers else 0.0
    return max(EDGE_MAX_BER, (typical + UNRELATED_BER) / 2)


def refine(
    draft: PlayDraft,
    ordered: list[SegInfo],
    ref: npt.NDArray[np.uint32],
    values_of: ValuesOf,
    duration: float,
) -> None:
    """Set draft.start/end by extending the alignment value by value around the chain.

    ``ordered`` is the station's segments by start; they may overlap (a new run's burst
    repeats the end of the previous run): values are merged in time order, and segments are
    contiguous when the later one starts within a second of where the earlier ones reach.
    """
    first = draft.matched[0]
    # the matched segment that reaches furthest: after a crash, a later-starting segment of the
    # earlier run may end before the new run's first segment does
    last = max(draft.matched, key=lambda s: (s.end, s.start))
    pos = {s.id: i for i, s in enumerate(ordered)}
    reach = list(itertools.accumulate((s.end for s in ordered), max))  # reach[i]: max end of ordered[:i+1]
    start, end = first.start, last.end
    edge = edge_max_ber(draft)

    def span(seg_ids: list[int]) -> tuple[list[datetime], npt.NDArray[np.float64]]:
        pairs: list[tuple[datetime, float]] = []
        for sid in seg_ids:
            fp = values_of(sid, draft.rate_ppm)
            if fp is None or fp.values.size == 0:
                continue
            t, e = agreement(fp, ref, draft)
            pairs += zip(t, e.tolist(), strict=True)
        pairs.sort(key=lambda p: p[0])
        return [t for t, _ in pairs], np.array([e for _, e in pairs], dtype=np.float64)

    def joins(n: int) -> bool:
        """Whether the segments before ordered[n] reach to within a second of its start."""
        return n > 0 and (ordered[n].start - reach[n - 1]).total_seconds() < 1

    # backwards: first the contiguous segments before the first match that agree as a whole
    # at the play's alignment (guided verification: an intro through an AM band or under a
    # voice-over the matcher did not name), then up to BACK_SEGMENTS more (an intro that does
    # not agree as a whole may still agree value by value), and the first matched segment
    i = pos[first.id]
    n = i
    head = first
    while joins(n):
        g = guided(ordered[n - 1], draft, ref, values_of)
        if g is None:
            break
        n -= 1
        head = g
    confirmed = [s.id for s in ordered[n:i]]
    before: list[int] = []
    while joins(n) and len(before) < BACK_SEGMENTS:
        n -= 1
        before.insert(0, ordered[n].id)
    times, errs = span([*before, *confirmed, first.id])
    if times:
        good = _smooth(errs, EDGE_WINDOW) <= edge
        anchor = (
            next((k for k, t in enumerate(times) if t >= head.match.value_start), len(times) - 1)
            if head.match
            else 0
        )
        # back from the matched segment's head when it agrees; when it disagrees (the song
        # begins inside the segment), forward to where agreement starts: a chance dip in the
        # audio before is no part of the song
        k = _reach(good, anchor, -1) if good[anchor] else anchor
        while k < len(times) - 1 and not good[k]:
            k += 1
        start = times[k]
    # a voice over the song's opening: bridge back along the alignment while the evidence holds
    start = bridge_back(draft, ordered, start, ref, values_of, joins)
    # forwards: the last matched segment and what follows it (one segment, or two overlapping)
    lo = bisect.bisect_left(ordered, last.start - MAX_SEGMENT, key=lambda s: s.start)
    hi = bisect.bisect_left(ordered, last.end + timedelta(seconds=1), key=lambda s: s.start)
    after = [s.id for s in ordered[lo:hi] if s.end > last.end]
    times, errs = span([last.id, *after])
    if times:
        good = _smooth(errs, EDGE_WINDOW) <= edge
        step = item_duration(draft.rate_ppm)
        k = _reach(good, max((n for n, t in enumerate(times) if t < last.end), default=len(times) - 1), 1)
        while k > 0 and not good[k]:
            k -= 1
        # a value sums up the VALUE_SPAN_S of audio that follow its time: the last value that
        # still agrees is the one whose span ends where the recording stops being heard
        end = times[k] + timedelta(seconds=step + VALUE_SPAN_S / draft.rate)
    # never before the recording's beginning nor past its end
    start = max(start, draft.time_at(0.0))
    end = min(end, draft.time_at(duration))
    draft.start, draft.end = start, max(end, start)


def _reach(good: npt.NDArray[np.bool_], k: int, step: int) -> int:
    """The furthest agreeing value from ``k`` in the direction of ``step``, across stretches of
    at most ``EDGE_GAP`` values that do not agree (``k`` itself when none agrees)."""
    out, bad, i = k, 0, k + step
    while 0 <= i < good.size and bad <= EDGE_GAP:
        if good[i]:
            out, bad = i, 0
        else:
            bad += 1
        i += step
    return out


def trim_overlaps(drafts: list[PlayDraft]) -> None:
    """Crossfades: consecutive plays that overlap meet in the middle of the overlap."""
    drafts.sort(key=lambda d: d.start or datetime.min)
    for a, b in itertools.pairwise(drafts):
        assert a.start and a.end and b.start and b.end
        if b.start < a.end:
            mid = b.start + (min(a.end, b.end) - b.start) / 2
            a.end, b.start = mid, max(mid, b.start)


def clear_of(drafts: list[PlayDraft], kept: list[tuple[datetime, datetime]]) -> list[PlayDraft]:
    """The drafts kept off the station's plays that this rebuild leaves in place (final plays
    are never reassembled): a second of airtime belongs to one play. A draft whose start was
    moved back into such a play (by the talk-over steps, over audio unmatched when it was
    built) starts where that play ends; one whose end reaches into a later one ends where it
    starts; a draft left with no airtime of its own is dropped (its segments wait for the next
    rebuild)."""
    out = []
    for d in drafts:
        assert d.start and d.end
        for a, b in kept:
            if d.start < b and a < d.end:
                if a <= d.start:
                    d.start = b
                elif d.end <= b:
                    d.end = a
        if d.start < d.end:
            out.append(d)
    return out
