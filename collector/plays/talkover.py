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
``MIN_GAIN``. Of the window holding the start only the values before the start count (the
song's values after it are the play's already: counted as evidence, they carried a song joined
mid-way back over the other music before it). Over the window before the earliest bridged
one, the bridged ones and the window holding the start, the start is placed value by value
where the same sum, taken over single values, peaks (a change-point estimate), never before
the recording's own beginning. With nothing to bridge, the start still moves back inside the
window holding it when its values there agree, by the stricter ``CHANGE_BER`` (a song faded
in, or heard through a rate variant a little off, agrees before the smoothed extension says).

A voice can also hide a song's opening entirely. :func:`follow_on` then starts the play where
the play before it ends, when the play's alignment puts the recording's first second there.
"""

from __future__ import annotations

import itertools
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
# with nothing to bridge, a value inside the window holding the start counts for the song when
# it agrees better than half-way between a voice-over's BER and MID_BER: other music close to
# the song (the same composer, the same key) sits at 0.44-0.46 through an AM band
CHANGE_BER = (TALK_BER + MID_BER) / 2
HEAD_MIN = 16  # values (2 s): fewer before the start in its window say nothing
DROP = 6.0  # the walk ends this far below its peak
STEP_S = 1.5  # a named window this far from the play's alignment is named elsewhere
FOLLOW_S = 3.0  # a recording's first second this close to the end of the play before it follows it
# ... when the play starts at most this much later. The timing is follow_on's only evidence, and
# a song the station joined late lines up with the play before by chance more often the longer
# the gap allowed: the week benchmark's songs joined 35.6 s and 42.7 s in after an ad break
# (37 s and 39 s) were started at the play before's end. The hidden openings it recovers on the
# accuracy benchmark's two seeds are 9 s and 12 s (the others 1-8 s).
FOLLOW_MAX_S = 20.0


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
    # the head of the window holding the start when it disagreed, then the contiguous windows
    # before it
    head = (start - ordered[k].start).total_seconds() > 1.0
    j = k + 1 if head else k
    total, best, best_j = 0.0, 0.0, j
    while (j == k + 1 or joins(j)) and not _elsewhere(ordered[j - 1], draft):
        if j == k + 1:
            gain = _head_gain(ordered[k], start, draft, ref, values_of)
        else:
            ber = continuation_ber(ordered[j - 1], draft, ref, values_of)
            if ber is None:  # the alignment reaches the recording's beginning
                break
            gain = (MID_BER - ber) / SPREAD
        total += gain
        j -= 1
        if total > best:
            best, best_j = total, j
        if total < best - DROP:
            break
    if best >= MIN_GAIN:
        # value by value, over the window before the earliest bridged one (not one named as
        # another song: the start of a song that follows another back to back is within the
        # window holding both), the bridged ones and the window holding the start
        level, ids = MID_BER, [s.id for s in ordered[best_j : k + 1]]
        if joins(best_j) and not _elsewhere(ordered[best_j - 1], draft):
            ids.insert(0, ordered[best_j - 1].id)
    elif head:
        # nothing to bridge: where the song begins inside the window holding the start
        level, ids, best_j = CHANGE_BER, [ordered[k].id], k
    else:
        return start
    pairs: list[tuple[datetime, float]] = []
    for sid in ids:
        fp = values_of(sid, draft.rate_ppm)
        if fp is not None and fp.values.size:
            t, e = agreement(fp, ref, draft)
            pairs += zip(t, e.tolist(), strict=True)
    if not pairs:
        return min(start, ordered[best_j].start)
    pairs.sort(key=lambda p: p[0])
    gains = np.cumsum([level - e for _, e in reversed(pairs)])  # summed from the right
    return min(start, pairs[len(pairs) - 1 - int(np.argmax(gains))][0])


def _head_gain(
    seg: SegInfo, start: datetime, draft: PlayDraft, ref: np.ndarray, values_of: ValuesOf
) -> float:
    """What the segment's values before ``start`` add to the walk, weighed as a whole window's
    BER would be: the mean of fewer values spreads wider, by the square root of the share of
    the window they are. Nothing from fewer than ``HEAD_MIN`` values, or when some of them fall
    before the recording's beginning."""
    fp = values_of(seg.id, draft.rate_ppm)
    if fp is None or fp.values.size == 0:
        return 0.0
    times, errs = agreement(fp, ref, draft)
    before = errs[: sum(1 for t in times if t < start)]
    if before.size < HEAD_MIN or (before >= 1.0).any():  # 1.0: outside the recording
        return 0.0
    return (MID_BER - float(before.mean())) / SPREAD * float(np.sqrt(before.size / errs.size))


def _elsewhere(seg: SegInfo, draft: PlayDraft) -> bool:
    """Whether the window is named as another recording, or this one at another alignment (a
    window named as something else is no voice over this song)."""
    m = seg.match
    if m is None:
        return False
    return m.recording_id != draft.recording_id or abs(draft.offset_at(m.value_start) - m.offset_s) > STEP_S


def follow_on(drafts: list[PlayDraft], ordered: list[SegInfo]) -> None:
    """A song that begins where the play before it ends starts there, even when a voice over
    its opening hid it from the fingerprint entirely (:func:`bridge_back` needs some of it).

    The evidence is the timing: the play's alignment puts the recording's first second within
    ``FOLLOW_S`` of where the play before it ends, over contiguous audio no other recording
    was named in. A song joined mid-way, or started after a DJ's words, puts it nowhere near.
    """
    drafts.sort(key=lambda d: d.start or datetime.min)
    for a, b in itertools.pairwise(drafts):
        assert a.start and a.end and b.start and b.end
        begin = b.time_at(0.0)
        late = (b.start - begin).total_seconds()
        if not (a.end <= b.start and 1.0 < late <= FOLLOW_MAX_S):
            continue
        if abs((begin - a.end).total_seconds()) > FOLLOW_S:
            continue
        between = [s for s in ordered if s.end > a.end and s.start < b.start]
        if any(
            (s.match is not None and s.match.recording_id != a.recording_id and _elsewhere(s, b))
            for s in between
        ) or any((t.start - s.end).total_seconds() > 1.0 for s, t in itertools.pairwise(between)):
            continue
        b.start = max(begin, a.end)
