"""Turn per-segment matches into plays: pure logic, no database.

A *chain* is a run of matched segments of one recording whose recording offsets advance
with broadcast time (at the matched playback rate, within ``OFFSET_TOLERANCE_S``) and whose
gaps stay under ``BRIDGE_S`` (a voice-over or a short dropout is bridged). An offset that
jumps is a new play (a replay, or the DJ restarting the song), unless the segment's own
fingerprint also agrees with the running play at the predicted position (music that repeats
a section matches two places equally well).

*Guided verification*: once a chain is established (two matches in step, or one clear
match), a segment the matcher did not name is tested against the chain's own recording at
the predicted alignment, with the looser ``GUIDED_MAX_BER``: one recording at one alignment
agrees by chance far less often than the best of a whole catalog does. Such a *confirmed*
segment carries the chain on (and bridges like a match); one segment's evidence alone is
never a play, but one clear match with two confirmed neighbours is.

Boundaries are then refined: backwards, segment by segment while the segments before the
first match are confirmed, then value by value in the segments before those; forwards,
value by value from the last matched or confirmed segment. Start and end so land within
about a second of the truth rather than on a segment boundary, even through an AM band
where the matcher names only two segments in three. Overlapping plays (crossfades) are
trimmed to meet in the middle of the overlap.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from collector.matching.index import bit_errors
from shared.chroma import item_duration, ppm_to_rate
from shared.codec import DecodedSegment

OFFSET_TOLERANCE_S = 3.0
BRIDGE_S = 45.0
MIN_SEGMENTS = 2
EDGE_WINDOW = 12  # values (~1.5 s) smoothed when extending a boundary
EDGE_MAX_BER = 0.33
BACK_SEGMENTS = 3  # how far before the first match a masked intro is looked for
CONTINUE_MAX_BER = 0.25  # the matcher's own acceptance threshold
CONTINUE_MARGIN = 0.03  # may fit the running play this much worse than its own match
CONTINUE_MIN_VALUES = 40
ESTABLISHED_MAX_BER = 0.15  # true plays reach 0.02-0.12; chance matches of other music ~0.2-0.25
# Guided verification: one recording tested at one predicted alignment (±2 values), so the
# threshold can be far looser than a blind catalog search's. Measured (docs/benchmarks.md):
# a 10-s segment against a random recording at a random alignment (best of ±2 values) is at
# or below 0.32 in 0.04 % of trials (37 of 87 880 over the six benchmark stations), while the
# true audio through an AM band sits at 0.15-0.30, where the blind search often finds nothing.
GUIDED_MAX_BER = 0.32
STRONG_MAX_BER = 0.20  # one real match this clear may confirm its neighbours on its own
QUIET_BEFORE_FINAL = timedelta(minutes=5)
# Chromaprint's delay: value i is computed from the audio in [i·step, i·step + 2.6 s]
# (28 666 samples at 11 025 Hz, chromaprint_get_delay), so the fingerprint of a file ends
# 2.6 s before its audio does, and a play's last agreeing value is that far from its end.
VALUE_SPAN_S = 28666 / 11025


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
    best: float | None = None
    # the draft's rate is a sweep variant, maybe 0.3 % off the true one: over a minute its
    # alignment drifts by a value or two, so look one or two values either side
    for shift in (0, -1, 1, -2, 2):
        moved = replace(draft, anchor_offset=draft.anchor_offset + shift * item_duration(0), segments=[])
        _, errs = _agreement(fp, ref, moved)
        inside = errs < 1.0  # out-of-range values are marked 1.0 by _agreement
        if inside.sum() < CONTINUE_MIN_VALUES:
            continue
        ber = float(errs[inside].mean())
        best = ber if best is None else min(best, ber)
    return best


def chain(
    segments: list[SegInfo],
    values_of: ValuesOf | None = None,
    refs: Mapping[int, npt.NDArray[np.uint32]] | None = None,
) -> list[PlayDraft]:
    """Group time-ordered segments into play drafts (before boundary refinement).

    With ``values_of`` and ``refs``, a segment whose match breaks the current chain is first
    checked against the chain's own recording at the predicted position: music that repeats
    a section (loops, choruses, dance edits) or briefly resembles another recording matches
    there just as well, and the play goes on instead of splitting. A genuine replay or the
    next song does not agree at the predicted position, so it still starts a new play.
    """
    drafts: list[PlayDraft] = []
    current: PlayDraft | None = None
    last_end: datetime | None = None
    for seg in segments:
        m = seg.match
        if m is None:
            if current is not None:
                g = None
                if (
                    values_of is not None
                    and refs is not None
                    and last_end is not None
                    and (seg.start - last_end).total_seconds() <= BRIDGE_S
                    and current.recording_id in refs
                    and _can_guide(current)
                ):
                    g = guided(seg, current, refs[current.recording_id], values_of)
                current.segments.append(g or seg)
                if g is not None:
                    last_end = seg.end
            continue
        if current is not None and last_end is not None:
            same = m.recording_id == current.recording_id
            in_step = abs(current.offset_at(m.value_start) - m.offset_s) <= OFFSET_TOLERANCE_S
            close = (seg.start - last_end).total_seconds() <= BRIDGE_S
            if same and in_step and close:
                current.segments.append(seg)
                last_end = seg.end
                if m.score > max(s.match.score for s in current.found if s.match) - 1e-9:
                    current.anchor_time, current.anchor_offset = m.value_start, m.offset_s
                current.rate_ppm = _play_rate(current)
                continue
            if (
                close
                and values_of is not None
                and refs is not None
                and current.recording_id in refs
                and (_established(current) or (same and _can_guide(current)))
            ):
                ber = continuation_ber(seg, current, refs[current.recording_id], values_of)
                # the same recording elsewhere (a repeated section, never an exact copy) only has to
                # be recognisable where the play says it is; another recording must fit as well
                limit = CONTINUE_MAX_BER if same else min(CONTINUE_MAX_BER, (1.0 - m.score) + CONTINUE_MARGIN)
                if ber is not None and ber <= limit:
                    # the segment fits the running play as well as its own match: keep the play,
                    # re-expressing the segment's match at the play's alignment
                    offset = current.offset_at(m.value_start)
                    current.segments.append(
                        SegInfo(
                            seg.id,
                            seg.start,
                            seg.end,
                            SegmentMatchInfo(
                                current.recording_id, offset, m.value_start, current.rate_ppm, 1.0 - ber
                            ),
                        )
                    )
                    last_end = seg.end
                    continue
        if current is not None:
            drafts.append(current)
        current = PlayDraft(m.recording_id, m.rate_ppm, m.value_start, m.offset_s, [seg])
        last_end = seg.end
    if current is not None:
        drafts.append(current)
    if values_of is not None and refs is not None:
        drafts = _merge_repeats(drafts, values_of, refs)
    out = []
    for d in drafts:
        # trailing unmatched segments are not part of the play
        while d.segments and d.segments[-1].match is None:
            d.segments.pop()
        # one window's evidence alone is never a play; one clear window whose neighbours agree
        # at its alignment (guided verification, at least two of them) is
        if len(d.found) >= MIN_SEGMENTS or len(d.matched) >= MIN_SEGMENTS + 1:
            out.append(d)
    return out


def _play_rate(draft: PlayDraft) -> int:
    """The rate variant most of the play's matches were named at (ties: the clearer match).

    Not simply the first match's: a crossfade segment named at a neighbouring variant would
    set a wrong rate and let the play's alignment drift until it splits.
    """
    votes: dict[int, tuple[int, float]] = {}
    for s in draft.found:
        assert s.match
        n, best = votes.get(s.match.rate_ppm, (0, 0.0))
        votes[s.match.rate_ppm] = (n + 1, max(best, s.match.score))
    return max(votes, key=lambda r: votes[r]) if votes else draft.rate_ppm


def _best_found_score(draft: PlayDraft) -> float:
    return max((s.match.score for s in draft.found if s.match), default=0.0)


def _established(draft: PlayDraft) -> bool:
    """A draft with one clear match: weak chance matches never pull other segments in."""
    return _best_found_score(draft) >= 1.0 - ESTABLISHED_MAX_BER


def _can_guide(draft: PlayDraft) -> bool:
    """Whether the draft may confirm neighbouring segments at its alignment (guided verification).

    Two matches of the recording in step, or one clear one (BER ≤ ``STRONG_MAX_BER``): chance
    matches of other music reach 0.2-0.25 and never come in step twice.
    """
    return len(draft.found) >= MIN_SEGMENTS or _best_found_score(draft) >= 1.0 - STRONG_MAX_BER


def _merge_repeats(
    drafts: list[PlayDraft], values_of: ValuesOf, refs: Mapping[int, npt.NDArray[np.uint32]]
) -> list[PlayDraft]:
    """Join a draft to the next one of the same recording when it also fits the next one's alignment.

    Looping music can make the first segments of a play match a later copy of the section
    they are in: the chain then follows the wrong copy until it runs out, and the true
    alignment starts a second draft. If every matched segment of the first draft is also
    recognisable where the second draft puts it, they were one play.
    """
    out: list[PlayDraft] = []
    for d in drafts:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.recording_id == d.recording_id
            and prev.recording_id in refs
            and _established(d)
            and (d.segments[0].start - prev.segments[-1].end).total_seconds() <= BRIDGE_S
        ):
            bers = [continuation_ber(s, d, refs[d.recording_id], values_of) for s in prev.matched]
            if bers and all(b is not None and b <= CONTINUE_MAX_BER for b in bers):
                moved = [
                    SegInfo(
                        s.id,
                        s.start,
                        s.end,
                        SegmentMatchInfo(
                            d.recording_id,
                            d.offset_at(s.match.value_start),
                            s.match.value_start,
                            d.rate_ppm,
                            1.0 - (b or 0.0),
                        ),
                    )
                    if s.match is not None
                    else s
                    for s, b in zip(prev.segments, _bers_for(prev.segments, bers), strict=True)
                ]
                d.segments = moved + d.segments
                out[-1] = d
                continue
        out.append(d)
    return out


def _bers_for(segments: list[SegInfo], matched_bers: list[float | None]) -> list[float | None]:
    """Spread the BERs of the matched segments over the full segment list (None for the unmatched)."""
    it = iter(matched_bers)
    return [next(it) if s.match is not None else None for s in segments]


def play_status(end: datetime, latest: datetime, final_all: bool = False) -> str:
    """A play is final once the station has been heard ``QUIET_BEFORE_FINAL`` past its end."""
    return "final" if final_all or latest - end > QUIET_BEFORE_FINAL else "open"


def _agreement(
    fp: DecodedSegment, ref: npt.NDArray[np.uint32], draft: PlayDraft
) -> tuple[list[datetime], npt.NDArray[np.float64]]:
    """Per-value bit error fraction against the recording, under the draft's alignment."""
    step = item_duration(fp.rate_ppm)
    item0 = item_duration(0)
    times = [fp.start + timedelta(seconds=i * step) for i in range(fp.values.size)]
    idx = np.array([round(draft.offset_at(t) / item0) for t in times], dtype=np.int64)
    ok = (idx >= 0) & (idx < ref.size)
    errs = np.full(fp.values.size, 32.0)  # out of the recording: every bit wrong
    if ok.any():
        errs[ok] = bit_errors(fp.values[ok], ref[idx[ok]]).astype(np.float64)
    return times, errs / 32.0


def _smooth(x: npt.NDArray[np.float64], w: int) -> npt.NDArray[np.float64]:
    """Moving average; the edges repeat the first/last value (zeros would read as agreement)."""
    if x.size == 0:
        return x
    w = max(1, min(w, x.size))
    padded = np.pad(x, (w // 2, w - 1 - w // 2), mode="edge")
    return np.convolve(padded, np.ones(w) / w, mode="valid")


def refine(
    draft: PlayDraft,
    ordered: list[SegInfo],
    ref: npt.NDArray[np.uint32],
    values_of: ValuesOf,
    duration: float,
) -> None:
    """Set draft.start/end by extending the alignment value by value around the chain."""
    first, last = draft.matched[0], draft.matched[-1]
    pos = {s.id: i for i, s in enumerate(ordered)}
    start, end = first.start, last.end

    def span(seg_ids: list[int]) -> tuple[list[datetime], npt.NDArray[np.float64]]:
        times: list[datetime] = []
        errs: list[npt.NDArray[np.float64]] = []
        for sid in seg_ids:
            fp = values_of(sid, draft.rate_ppm)
            if fp is None or fp.values.size == 0:
                continue
            t, e = _agreement(fp, ref, draft)
            times += t
            errs.append(e)
        return times, (np.concatenate(errs) if errs else np.zeros(0))

    # backwards: first the contiguous segments before the first match that agree as a whole
    # at the play's alignment (guided verification: an intro through an AM band or under a
    # voice-over the matcher did not name), then up to BACK_SEGMENTS more (an intro that does
    # not agree as a whole may still agree value by value), and the first matched segment
    i = pos[first.id]
    n = i
    head = first
    while n > 0 and (ordered[n].start - ordered[n - 1].end).total_seconds() < 1:
        g = guided(ordered[n - 1], draft, ref, values_of)
        if g is None:
            break
        n -= 1
        head = g
    confirmed = [s.id for s in ordered[n:i]]
    before: list[int] = []
    while n > 0 and len(before) < BACK_SEGMENTS:
        if (ordered[n].start - ordered[n - 1].end).total_seconds() >= 1:
            break
        n -= 1
        before.insert(0, ordered[n].id)
    times, errs = span([*before, *confirmed, first.id])
    if times:
        good = _smooth(errs, EDGE_WINDOW) <= EDGE_MAX_BER
        anchor = (
            next((k for k, t in enumerate(times) if t >= head.match.value_start), len(times) - 1)
            if head.match
            else 0
        )
        k = anchor
        while k > 0 and good[k - 1]:
            k -= 1
        # if the matched segment's own head disagrees, walk forward to where agreement starts
        while k < len(times) - 1 and not good[k]:
            k += 1
        start = times[k]
    # forwards: the last matched segment and the one after it
    j = pos[last.id]
    ids = [last.id] + (
        [ordered[j + 1].id]
        if j + 1 < len(ordered) and (ordered[j + 1].start - last.end).total_seconds() < 1
        else []
    )
    times, errs = span(ids)
    if times:
        good = _smooth(errs, EDGE_WINDOW) <= EDGE_MAX_BER
        step = item_duration(draft.rate_ppm)
        k = max((n for n, t in enumerate(times) if t < last.end), default=len(times) - 1)
        while k < len(times) - 1 and good[k + 1]:
            k += 1
        while k > 0 and not good[k]:
            k -= 1
        # a value sums up the VALUE_SPAN_S of audio that follow its time: the last value that
        # still agrees is the one whose span ends where the recording stops being heard
        end = times[k] + timedelta(seconds=step + VALUE_SPAN_S / draft.rate)
    # never before the recording's beginning nor past its end
    start = max(start, draft.time_at(0.0))
    end = min(end, draft.time_at(duration))
    draft.start, draft.end = start, max(end, start)


def trim_overlaps(drafts: list[PlayDraft]) -> None:
    """Crossfades: consecutive plays that overlap meet in the middle of the overlap."""
    drafts.sort(key=lambda d: d.start or datetime.min)
    for a, b in itertools.pairwise(drafts):
        assert a.start and a.end and b.start and b.end
        if b.start < a.end:
            mid = b.start + (min(a.end, b.end) - b.start) / 2
            a.end, b.start = mid, max(mid, b.start)
