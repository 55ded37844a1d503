"""Near-duplicate versions: one recording per play, chosen over the whole play.

A catalog often holds a song twice (an original and its remaster, a radio edit): the two
fingerprints are close, and a broadcast of either matches both, window by window, at BERs a
few hundredths apart. Left to single windows, a play would take the version of its first
match, or split where the matches change sides. Here, after chaining:

1. **Alternates.** A play's clearest windows are looked up in the catalog again; another
   recording that also matches them (BER within the matcher's bound) at an alignment that
   moves with the play's is an *alternate*, with its offset relative to the play's recording.
2. **Split plays rejoin.** Consecutive drafts of a recording and of its alternate, close in
   time and in step with each other, were one play: they are joined. So are two drafts whose
   lookups missed each other (faint windows find few candidates) when the shorter one's
   windows all fit the longer one's recording where that one puts them; and a play of one
   recording broken by its alternate's windows joins up again once those are absorbed.
3. **Choice.** Every window of the play is compared with each version at the play's alignment
   (:func:`collector.plays.guided.continuation_ber`); the version with the lower mean BER over
   the whole play names it, and the runner-up is kept as the play's alternate, which the
   play's evidence shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from collector.fpmath import aligned_ber
from collector.matching.index import CatalogIndex
from collector.matching.matcher import MAX_BER, MIN_OVERLAP
from collector.plays.chaining import BRIDGE_S, CONTINUE_MARGIN, CONTINUE_MAX_BER, OFFSET_TOLERANCE_S
from collector.plays.draft import PlayDraft, SegInfo, SegmentMatchInfo, ValuesOf, distinct_windows
from collector.plays.guided import continuation_ber
from shared.chroma import item_duration

LOOKUPS = 3  # clearest windows of a play looked up again for alternates
# mean BER over a whole play, runner-up minus chosen version: a remaster and its original sit
# 0.03-0.17 apart on the benchmark's stations; a recording that resembled a few windows only
# (a chance match) 0.28-0.39
ALTERNATE_MARGIN = 0.20


def alternates(draft: PlayDraft, index: CatalogIndex, values_of: ValuesOf) -> dict[int, float]:
    """{recording id: offset of that recording minus the draft's, in seconds} for the draft's
    alternates: other recordings that its clearest windows match as well, in step."""
    found: dict[int, list[float]] = {}
    clearest = sorted(draft.found, key=lambda s: -(s.match.score if s.match else 0.0))[:LOOKUPS]
    for s in clearest:
        fp = values_of(s.id, draft.rate_ppm)
        if fp is None or fp.values.size == 0:
            continue
        here = draft.offset_at(fp.start)
        for cand in index.candidates(fp.values):
            rid = index.ids[cand.recording]
            if rid == draft.recording_id:
                continue
            ref = index.values[cand.recording]
            tried = [
                (*aligned_ber(fp.values, ref, o), o) for o in (cand.offset - 1, cand.offset, cand.offset + 1)
            ]
            ber, n, off = min(tried)
            if n >= MIN_OVERLAP and ber <= MAX_BER:
                found.setdefault(rid, []).append(off * item_duration(0) - here)
    # an alternate moves with the play: its windows agree on one offset difference
    return {
        rid: float(np.median(deltas))
        for rid, deltas in found.items()
        if max(deltas) - min(deltas) <= OFFSET_TOLERANCE_S
    }


def _as(draft: PlayDraft, rid: int, delta: float) -> PlayDraft:
    """The draft's alignment carried over to another version."""
    return replace(draft, recording_id=rid, anchor_offset=draft.anchor_offset + delta, segments=[])


def _reexpress(segments: list[SegInfo], draft: PlayDraft) -> list[SegInfo]:
    """Matched segments as matches of the draft's recording at its alignment."""
    out = []
    for s in segments:
        m = s.match
        if m is not None and (m.recording_id != draft.recording_id or m.rate_ppm != draft.rate_ppm):
            m = SegmentMatchInfo(
                draft.recording_id,
                draft.offset_at(m.value_start),
                m.value_start,
                draft.rate_ppm,
                m.score,
                m.guided,
            )
        out.append(SegInfo(s.id, s.start, s.end, m))
    return out


def _continues(
    prev: PlayDraft,
    d: PlayDraft,
    prev_alts: dict[int, float],
    d_alts: dict[int, float],
    refs: Mapping[int, npt.NDArray[np.uint32]],
    values_of: ValuesOf,
) -> float | None:
    """``d``'s recording offset minus ``prev``'s when ``d`` goes on with ``prev``'s play (as
    another version of it, or as the same recording after another version broke the chain);
    None when it is another play.

    Either one draft's lookups found the other's recording as an alternate, in step; or,
    when the lookups missed it (faint windows find few candidates) or found it out of step
    (in looping music a lookup can find the other version at a repeat of a bar, a few seconds
    off), every matched window of the shorter draft also fits the longer one's recording where
    that one puts it.
    """
    t = d.found[0].match.value_start if d.found and d.found[0].match else d.anchor_time
    step = d.offset_at(t) - prev.offset_at(t)
    delta = prev_alts.get(d.recording_id)
    if delta is None and prev.recording_id in d_alts:
        delta = -d_alts[prev.recording_id]
    if delta is not None and abs(step - delta) <= OFFSET_TOLERANCE_S:
        return delta
    short, long = sorted((prev, d), key=lambda x: distinct_windows(x.matched))
    if long.recording_id not in refs or not short.matched:
        return None
    for s in short.matched:
        assert s.match
        ber = continuation_ber(s, long, refs[long.recording_id], values_of)
        if ber is None or ber > max(CONTINUE_MAX_BER, 1.0 - s.match.score + CONTINUE_MARGIN):
            return None
    return step


def choose_versions(
    drafts: list[PlayDraft],
    index: CatalogIndex,
    refs: Mapping[int, npt.NDArray[np.uint32]],
    values_of: ValuesOf,
) -> list[PlayDraft]:
    """The drafts with split versions rejoined and each named by its best-supported version."""
    alts = [alternates(d, index, values_of) for d in drafts]
    merged: list[PlayDraft] = []
    merged_alts: list[dict[int, float]] = []
    for d, a in zip(drafts, alts, strict=True):
        prev = merged[-1] if merged else None
        if prev is not None and d.segments and prev.segments:
            gap = (d.segments[0].start - prev.segments[-1].end).total_seconds()
            delta = _continues(prev, d, merged_alts[-1], a, refs, values_of) if gap <= BRIDGE_S else None
            if delta is not None:
                prev.segments += _reexpress(d.segments, prev)
                for rid, dl in [(d.recording_id, 0.0), *a.items()]:  # d's versions, relative to prev
                    if rid != prev.recording_id:
                        merged_alts[-1].setdefault(rid, dl + delta)
                continue
        merged.append(d)
        merged_alts.append(dict(a))
    for d, a in zip(merged, merged_alts, strict=True):
        d.alternate_id = None
        if not a:
            continue
        scores: list[tuple[float, int, float]] = []
        for rid, delta in [(d.recording_id, 0.0), *a.items()]:
            if rid not in refs:
                continue
            version = _as(d, rid, delta)
            bers = [continuation_ber(s, version, refs[rid], values_of) for s in d.matched]
            known = [b for b in bers if b is not None]
            if known:
                scores.append((float(np.mean(known)), rid, delta))
        scores.sort()
        if len(scores) < 2:
            continue
        (best_ber, best, delta), (runner_ber, runner_up, _) = scores[0], scores[1]
        if best != d.recording_id:
            d.recording_id, d.anchor_offset = best, d.anchor_offset + delta
            d.segments = _reexpress(d.segments, d)
        # another version fits the whole play nearly as well; a recording that only a few of
        # its windows resembled (a chance match absorbed into the play) is no alternate
        d.alternate_id = runner_up if runner_ber - best_ber <= ALTERNATE_MARGIN else None
    return merged
