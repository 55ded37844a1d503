"""Talk-over: move a play's start back to the song's first second when a voice covered it.

A DJ talking over the opening of a song at the music's own level leaves windows that agree
with the recording only faintly (a BER of about ``TALK_BER`` at the play's alignment, against
``NULL_BER`` for audio that is not the song): the matcher names none of them and the value-by-
value extension (:func:`collector.plays.boundaries.refine`) stops where the voice starts.
Yet the song is there, and the society pays for that airtime.

Backwards from the start found so far, segment by segment while the audio is contiguous, no
window is named elsewhere (as another recording, or this one at another alignment: looping
music agrees faintly at a shifted alignment too) and the alignment still falls inside the
recording, each window's BER adds
``(MID_BER - ber) / SPREAD`` to a running sum (a faint window adds, unrelated audio takes
away); the start moves back to the window where the sum peaks, if that peak reaches
``MIN_GAIN``. Inside the window before it, the start is placed value by value where the
same sum, taken over single values, peaks (a change-point estimate), never before the
recording's own beginning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np

from collector.plays.draft import PlayDraft, SegInfo, ValuesOf
from collector.plays.guided import agreement, continuation_ber

# Measured (docs/benchmarks.md, Accuracy: bench.accuracy.evidence): windows under a voice at
# the music's level, or a quiet intro through an AM band, sit at 0.37-0.43 from their recording
# at the play's alignment; windows of other audio at 0.489 on average, standard deviation
# 0.027, 1 % of them at or below 0.436.
TALK_BER = 0.40
NULL_BER = 0.49
MID_BER = (TALK_BER + NULL_BER) / 2
SPREAD = 0.027
# the evidence the bridged windows must add: one window at 0.40 or better, or two at 0.42; a
# window of other audio gains that much in about 1 case in 1,000 (3.1 standard deviations)
MIN_GAIN = 1.5
DROP = 6.0  # the walk ends this far below its peak
STEP_S = 1.5  # a named window this far from the play's alignment is named elsewhere


def bridge_back(
    draft: PlayDraft,
    ordered: list[SegInfo],
    start: datetime,
    ref: np.ndarray,
    values_of: ValuesOf,
    joins: Callable[[int], bool],
) -> datetime:
    """The play's start, moved back over windows where the song is faintly heard (or unchanged)."""
    k = max((i for i, s in enumerate(ordered) if s.start <= start), default=0)
    # the window holding the start when its head disagreed, then the contiguous ones before it
    j = k + 1 if (start - ordered[k].start).total_seconds() > 1.0 else k
    total, best, best_j = 0.0, 0.0, j
    while (j == k + 1 or joins(j)) and not _elsewhere(ordered[j - 1], draft):
        ber = continuation_ber(ordered[j - 1], draft, ref, values_of)
        if ber is None:  # the alignment reaches the recording's beginning
            break
        total += (MID_BER - ber) / SPREAD
        j -= 1
        if total > best:
            best, best_j = total, j
        if total < best - DROP:
            break
    if best < MIN_GAIN:
        return start
    # value by value, over the window before the earliest bridged one and that window
    ids = [ordered[best_j].id]
    # (not into a window named as another song: the start of a song that follows another
    # back to back is within the window holding both, never in the other song's windows)
    if joins(best_j) and not _elsewhere(ordered[best_j - 1], draft):
        ids.insert(0, ordered[best_j - 1].id)
    pairs: list[tuple[datetime, float]] = []
    for sid in ids:
        fp = values_of(sid, draft.rate_ppm)
        if fp is not None and fp.values.size:
            t, e = agreement(fp, ref, draft)
            pairs += zip(t, e.tolist(), strict=True)
    if not pairs:
        return min(start, ordered[best_j].start)
    pairs.sort(key=lambda p: p[0])
    gains = np.cumsum([MID_BER - e for _, e in reversed(pairs)])  # summed from the right
    return min(start, pairs[len(pairs) - 1 - int(np.argmax(gains))][0])


def _elsewhere(seg: SegInfo, draft: PlayDraft) -> bool:
    """Whether the window is named as another recording, or this one at another alignment (a
    window named as something else is no voice over this song)."""
    m = seg.match
    if m is None:
        return False
    return m.recording_id != draft.recording_id or abs(draft.offset_at(m.value_start) - m.offset_s) > STEP_S
