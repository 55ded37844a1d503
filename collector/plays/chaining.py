"""Chaining: group time-ordered segment matches into play drafts.

A *chain* is a run of matched segments of one recording whose recording offsets advance
with broadcast time (at the matched playback rate, within ``OFFSET_TOLERANCE_S``) and whose
gaps stay under ``BRIDGE_S`` (a voice-over or a short dropout is bridged). An offset that
jumps is a new play (a replay, or the DJ restarting the song), unless the segment's own
fingerprint also agrees with the running play at the predicted position (music that repeats
a section matches two places equally well).

Once a chain is established (two matches in step, or one clear match), a segment the matcher
did not name is tested against the chain's own recording at the predicted alignment
(:mod:`collector.plays.guided`). Such a *confirmed* segment carries the chain on (and bridges
like a match); one segment's evidence alone is never a play, but one clear match with two
confirmed neighbours is, and so is one match as clear as an established play's
(``ESTABLISHED_MAX_BER``) with one.

Segments come sorted by start and may overlap: after an agent's crash, the first segments of
its next run repeat up to a burst of the audio it had already sent (Icecast's
burst-on-connect, an HLS playlist's last segments), with their own segment boundaries. Those
match the same recording at the same offsets, so they chain like any other; a segment that
mostly repeats audio already in the chain adds no evidence (:func:`distinct_windows`), and a
reconnect's gap inside a song is bridged like a dropout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from collector.plays.draft import PlayDraft, SegInfo, SegmentMatchInfo, ValuesOf, distinct_windows
from collector.plays.guided import CONTINUE_MIN_VALUES, best_offsets, continuation_ber, guided

OFFSET_TOLERANCE_S = 3.0
LOCAL_TOLERANCE_S = 1.5  # from one match to the next, within LOCAL_WINDOW_S
LOCAL_WINDOW_S = 30.0
BRIDGE_S = 45.0
MIN_SEGMENTS = 2
CONTINUE_MAX_BER = 0.25  # the matcher's own acceptance threshold
CONTINUE_MARGIN = 0.03  # may fit the running play this much worse than its own match
ESTABLISHED_MAX_BER = 0.15  # true plays reach 0.02-0.12; chance matches of other music ~0.2-0.25
STRONG_MAX_BER = 0.20  # one real match this clear may confirm its neighbours on its own
REPEAT_TRIES = 3  # alignments of a looping recording tried when two drafts of it may be one play


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
                if g is not None and last_end is not None:
                    last_end = max(last_end, seg.end)
            continue
        if current is not None and last_end is not None:
            same = m.recording_id == current.recording_id
            in_step = abs(
                current.offset_at(m.value_start) - m.offset_s
            ) <= OFFSET_TOLERANCE_S and _locally_in_step(current, m)
            close = (seg.start - last_end).total_seconds() <= BRIDGE_S
            if same and in_step and close:
                current.segments.append(seg)
                last_end = max(last_end, seg.end)
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
                    last_end = max(last_end, seg.end)
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
        # at its alignment (guided verification, at least two of them) is, and so is one the
        # matcher found as clearly as an established play's with a neighbour that agrees (a 20-s
        # teaser, faded in and out, fills one window and most of the next)
        matched = distinct_windows(d.matched)
        if (
            distinct_windows(d.found) >= MIN_SEGMENTS
            or matched >= MIN_SEGMENTS + 1
            or (matched >= MIN_SEGMENTS and _established(d))
        ):
            out.append(d)
    if values_of is not None and refs is not None:
        # a lone window of another recording (dropped just above) may have split a play in two
        out = _merge_repeats(out, values_of, refs)
    return out


def _locally_in_step(draft: PlayDraft, m: SegmentMatchInfo) -> bool:
    """Whether ``m`` follows on from the play's latest match, as closely as one match follows
    another (``LOCAL_TOLERANCE_S``): the play's rate may be a sweep variant off by half a
    per cent, which ``OFFSET_TOLERANCE_S`` absorbs over minutes, but from one window to the
    next it drifts by hundredths of a second. A jump of a few seconds is the song played again
    from a little further on (a replay crossfaded into itself), not the same play."""
    prev = next((s.match for s in reversed(draft.segments) if s.match is not None), None)
    if prev is None or prev.recording_id != m.recording_id:
        return True
    dt = (m.value_start - prev.value_start).total_seconds()
    if not 0 < dt <= LOCAL_WINDOW_S:
        return True
    return abs(prev.offset_s + dt * draft.rate - m.offset_s) <= LOCAL_TOLERANCE_S


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
    return distinct_windows(draft.found) >= MIN_SEGMENTS or _best_found_score(draft) >= 1.0 - STRONG_MAX_BER


def _merge_repeats(
    drafts: list[PlayDraft], values_of: ValuesOf, refs: Mapping[int, npt.NDArray[np.uint32]]
) -> list[PlayDraft]:
    """Join a draft to the next one of the same recording when one alignment explains both.

    Looping music can make the first segments of a play match a later copy of the section
    they are in: the chain then follows the wrong copy until it runs out, and the true
    alignment starts a second draft; a lone window of another recording can also break a
    chain whose windows are faint. If every matched segment of both drafts is recognisable
    at one alignment (the second draft's, or one found by scanning the recording with the
    clearest window), they were one play.
    """
    out: list[PlayDraft] = []
    for d in drafts:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.recording_id == d.recording_id
            and prev.recording_id in refs
            and (_established(d) or _can_guide(d))
            and (d.segments[0].start - prev.segments[-1].end).total_seconds() <= BRIDGE_S
        ):
            joined = _one_alignment(prev, d, refs[d.recording_id], values_of)
            if joined is not None:
                out[-1] = joined
                continue
        out.append(d)
    return out


def _one_alignment(
    prev: PlayDraft, d: PlayDraft, ref: npt.NDArray[np.uint32], values_of: ValuesOf
) -> PlayDraft | None:
    """``prev`` and ``d`` as one draft, at the alignment under which every matched segment of
    both fits (each within ``CONTINUE_MAX_BER``, or within ``CONTINUE_MARGIN`` of its own
    match's BER when that was fainter); None when no tried alignment explains them all.

    A faint match (BER over ``CONTINUE_MAX_BER``) that the alignment places outside the
    recording does not count against it: a window that straddles the song's start can match a
    later copy of a looping section faintly, where the true alignment has not begun yet. It is
    no part of the joined play (unmatched there)."""
    matched = prev.matched + d.matched
    hypotheses = [d]
    clearest = max(matched, key=lambda s: s.match.score if s.match else 0.0)
    fp = values_of(clearest.id, d.rate_ppm)
    if fp is not None and fp.values.size >= CONTINUE_MIN_VALUES:
        hypotheses += [
            PlayDraft(d.recording_id, d.rate_ppm, fp.start, off)
            for off in best_offsets(fp.values, ref, REPEAT_TRIES)
        ]
    best: tuple[float, PlayDraft, list[float | None]] | None = None
    for h in hypotheses:
        bers: list[float | None] = []
        for s in matched:
            assert s.match
            b = continuation_ber(s, h, ref, values_of)
            if b is None and 1.0 - s.match.score > CONTINUE_MAX_BER:
                bers.append(None)  # faint, and outside the recording at this alignment
                continue
            if b is None or b > max(CONTINUE_MAX_BER, 1.0 - s.match.score + CONTINUE_MARGIN):
                break
            bers.append(b)
        else:
            fits = [b for b in bers if b is not None]
            if fits and (best is None or float(np.mean(fits)) < best[0]):
                best = (float(np.mean(fits)), h, bers)
    if best is None:
        return None
    _, h, bers = best
    segments = prev.segments + d.segments
    merged = PlayDraft(d.recording_id, d.rate_ppm, h.anchor_time, h.anchor_offset)
    merged.segments = [
        SegInfo(
            s.id,
            s.start,
            s.end,
            SegmentMatchInfo(
                d.recording_id,
                merged.offset_at(s.match.value_start),
                s.match.value_start,
                d.rate_ppm,
                1.0 - b,
                s.match.guided,
            ),
        )
        if s.match is not None and b is not None
        else replace(s, match=None)
        for s, b in zip(segments, _bers_for(segments, bers), strict=True)
    ]
    return merged


def _bers_for(segments: list[SegInfo], matched_bers: list[float | None]) -> list[float | None]:
    """Spread the BERs of the matched segments over the full segment list (None for the unmatched)."""
    it = iter(matched_bers)
    return [next(it) if s.match is not None else None for s in segments]
