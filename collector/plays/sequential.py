"""Evidence accumulated along one alignment: plays the matcher cannot name window by window.

Through an AM band, under heavy hiss or a low-bitrate codec, a song's 10-s windows can sit at
a bit error rate of 0.27-0.38 from their recording at the true alignment: each above the
matcher's 0.25 (a blind search of the whole catalog must not accept them), yet far from the
~0.5 of unrelated audio. One such window is weak evidence; a run of them along one
(recording, alignment) is overwhelming. This module runs that sequential test:

1. **Seed.** A segment the matcher did not name (or named only faintly) is searched again
   together with its neighbours, 30 s of values in one query (multi-probe keys): the true
   alignment collects votes in every window, a chance one in one. Candidates within the
   looser ``SEED_MAX_BER`` over those 30 s, and the segment's own match, are *hypotheses*:
   a recording and an alignment. The seed's own window was chosen from the whole catalog,
   so it counts for nothing below.
2. **Test.** The alignment predicts where the recording is in every neighbouring segment; each
   neighbour's BER there (best of ±2 values, :func:`collector.plays.guided.continuation_ber`)
   adds :func:`window_llr`, the log-likelihood ratio of "this recording, here" against
   "unrelated audio". The run extends forwards and backwards while the sum stays within
   ``DROP_LLR`` of its best (a voice-over or a quiet passage costs, it does not end the run).
3. **Accept** when the neighbours' sum reaches ``ACCEPT_LLR``: the seed and the neighbours
   that agree (positive LLR) become matches of the recording at that alignment, with their
   own BER as score, and chaining and boundaries take them as they take the matcher's. Of
   several accepted hypotheses the one whose windows fit best (median BER) is named: another
   repeat of a looping song agrees all along too. A window an earlier seed's run named keeps
   that name where it fits it better.
4. **A song heard faintly from end to end.** A quiet piece 18 dB over an AM band's hiss sits
   at 0.39-0.43 in every window, the level of a voice-over, where the model above takes each
   window as evidence against. Unrelated music in the same key sits there too, along one
   alignment, for a minute or more: that level alone is no evidence. But when two of the
   matcher's own matches (blind searches of the whole catalog, within its 0.25) name the
   hypothesis's recording in step with it (``ANCHORS``), the run is tested again with
   :func:`faint_llr`, a model of windows at that level: two chance matches of one recording
   never came in step on the benchmark's unrelated audio (docs/benchmarks.md).

``window_llr`` and the thresholds come from measured BER distributions (docs/benchmarks.md,
Accuracy): unrelated audio (off-catalog music, speech, ads) against a recording at one
alignment, and true audio through the benchmark's hardest chains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial

import numpy as np
import numpy.typing as npt

from collector.matching.index import TOP_ANY, CatalogIndex
from collector.matching.matcher import MIN_OVERLAP, verified
from collector.plays.draft import PlayDraft, SegInfo, SegmentMatchInfo, ValuesOf, distinct_windows
from collector.plays.guided import best_offsets, continuation_ber
from collector.plays.memo import Memo

SEED_MAX_BER = 0.40
CLEAR_BER = 0.15  # a match this clear is not questioned
NULL_BER = 0.48  # mean window BER of unrelated audio at one alignment (best of ±2 values)
TRUE_BER = 0.30  # a true window through the hardest chains
SPREAD = 0.05  # standard deviation of a window's BER about either
LLR_FLOOR = -8.0  # one window (a voice-over, a break) never costs more than this
ACCEPT_LLR = 14.0  # nats from the neighbours: e^-14 ≈ 1e-6 odds against per seed
DROP_LLR = 16.0
GAP_S = 2.0  # neighbours further apart than this are not one run
QUERY_SEGMENTS = 3  # a seed's catalog query spans this many contiguous windows
NEAR_S = 90.0  # recordings named this close to a seed are scanned whole for it
SCAN_TOP = 3  # alignments of one recording tried per seed (looping music agrees in several)
SCAN_APART_S = 2.0
# a song heard faintly from end to end (measured: docs/benchmarks.md, Accuracy)
FAINT_BER = 0.41  # its windows' mean through the AM band, and a voice-over's
FAINT_SPREAD = 0.027  # unrelated audio's standard deviation about NULL_BER, one window (0.027-0.030)
ANCHORS = 2  # the matcher's own matches in step with the hypothesis a faint run needs
ANCHOR_BER = 0.25  # the matcher's acceptance: a match found by a blind search of the catalog
ANCHOR_STEP_S = 0.5  # how far from the hypothesis's alignment an anchor may lie (benchmark: 0.34 s at most)
BER = "ber"  # the memo's keys of a segment's BER at a hypothesis (the others: a seed's proposals)


def _llr(ber: float | None, true_ber: float, spread: float) -> float:
    """Log-likelihood ratio of one window's BER: this recording here (mean ``true_ber``) against
    unrelated audio (mean ``NULL_BER``), both normal with ``spread``; floored at ``LLR_FLOOR``.
    A window clearer than ``true_ber`` is no stronger evidence than a typical true one."""
    if ber is None:
        return LLR_FLOOR
    b = max(ber, true_ber)
    return max(LLR_FLOOR, (NULL_BER - true_ber) * (NULL_BER + true_ber - 2 * b) / (2 * spread**2))


def window_llr(ber: float | None) -> float:
    """One window's evidence for a song heard as through the hardest chains (``TRUE_BER``)."""
    return _llr(ber, TRUE_BER, SPREAD)


def faint_llr(ber: float | None) -> float:
    """:func:`window_llr` for a song heard faintly all along, at a voice-over's level
    (``FAINT_BER``, ``FAINT_SPREAD``). Only for a hypothesis with ``ANCHORS``."""
    return _llr(ber, FAINT_BER, FAINT_SPREAD)


def station_rate(segments: list[SegInfo]) -> int | None:
    """The rate most of the station's matches were found at (the variant to test seeds at)."""
    rates = Counter(s.match.rate_ppm for s in segments if s.match is not None)
    return rates.most_common(1)[0][0] if rates else None


def _span(segments: list[SegInfo], i: int) -> range:
    """Segment ``i`` and its contiguous neighbours, ``QUERY_SEGMENTS`` in all where there are:
    a seed's catalog query, where the true alignment votes in every window, a chance one in one."""
    lo = hi = i
    while hi - lo + 1 < QUERY_SEGMENTS:
        grew = False
        for j in (hi + 1, lo - 1):
            if 0 <= j < len(segments) and hi - lo + 1 < QUERY_SEGMENTS:
                a, b = (segments[hi], segments[j]) if j > hi else (segments[j], segments[lo])
                if (b.start - a.end).total_seconds() <= GAP_S:
                    lo, hi = min(lo, j), max(hi, j)
                    grew = True
        if not grew:
            break
    return range(lo, hi + 1)


def _proposals(
    segments: list[SegInfo],
    span: range,
    rate: int,
    values_of: ValuesOf,
    index: CatalogIndex,
    refs: Mapping[int, npt.NDArray[np.uint32]],
    nearby: frozenset[int],
) -> tuple[datetime, list[tuple[int, float]]] | None:
    """The (recording, offset at the first value) hypotheses the span's values propose: its
    catalog candidates within ``SEED_MAX_BER`` (multi-probe keys, the top two bits in any code:
    :data:`~collector.matching.index.TOP_ANY`, as hiss moves them), and the best alignments of
    the recordings named ``nearby``; with the time of its first value. None without values."""
    fps = [
        f
        for s in segments[span.start : span.stop]
        if (f := values_of(s.id, rate)) is not None and f.values.size
    ]
    if not fps:
        return None
    first, values = fps[0].start, np.concatenate([f.values for f in fps])
    proposed = [
        (c.recording_id, c.offset_s)
        for c in verified(index, values, rate, probe=True, max_ber=SEED_MAX_BER, flips=TOP_ANY)
        if c.recording_id in refs
    ]
    for rid in sorted(nearby):
        proposed += [
            (rid, off)
            for off in best_offsets(values, refs[rid], SCAN_TOP, SEED_MAX_BER, SCAN_APART_S, MIN_OVERLAP)
        ]
    return first, proposed


def _nearby(segments: list[SegInfo], i: int) -> set[int]:
    """Recordings the matcher named (clearly or not) within ``NEAR_S`` of segment ``i``."""
    t = segments[i].start
    found = set()
    for step in (1, -1):
        j = i
        while 0 <= j < len(segments) and abs((segments[j].start - t).total_seconds()) <= NEAR_S:
            m = segments[j].match
            if m is not None:
                found.add(m.recording_id)
            j += step
    return found


def _anchors(segments: list[SegInfo], found: Iterable[int], draft: PlayDraft) -> int:
    """How many distinct windows among ``segments[k]`` (``k`` in ``found``: those the matcher
    itself named, within ``ANCHOR_BER``) name the draft's recording where the draft's alignment
    puts it (``ANCHOR_STEP_S``): blind searches of the whole catalog that agree in step."""
    return distinct_windows(
        segments[k]
        for k in found
        if (m := segments[k].match) is not None
        and m.recording_id == draft.recording_id
        and abs(draft.offset_at(m.value_start) - m.offset_s) <= ANCHOR_STEP_S
    )


def _median(run: dict[int, float]) -> float:
    return float(np.median(list(run.values())))


def _choose(
    segments: list[SegInfo],
    i: int,
    hypotheses: list[PlayDraft],
    seeded: range,
    refs: Mapping[int, npt.NDArray[np.uint32]],
    values_of: ValuesOf,
    memo: Memo | None,
    found_by: Mapping[int, list[int]],
) -> tuple[dict[int, float], PlayDraft, Callable[[float | None], float]] | None:
    """The run to name around seed ``i`` (its segments' BER), its hypothesis and the model that
    accepted it; None when no hypothesis gathers ``ACCEPT_LLR``. ``found_by``: each recording's
    segments the matcher named it in, within ``ANCHOR_BER``."""
    tested = [(*_run(segments, i, h, refs[h.recording_id], values_of, seeded, memo), h) for h in hypotheses]
    accepted = [t for t in tested if t[0] >= ACCEPT_LLR]
    if accepted:
        # of the hypotheses the evidence accepts, the one that fits its windows best: every window
        # clearer than TRUE_BER counts alike, so another repeat of a looping song, 12 s off and
        # run on a little further by music after it, could outweigh the true alignment
        _, run, draft = min(accepted, key=lambda t: _median(t[1]))
        return run, draft, window_llr
    # a song heard faintly from end to end: the hypotheses two of the matcher's own matches
    # support in step, tested at a voice-over's level; a clear song's run (its median window
    # clearer than TRUE_BER) is not carried on at that level over the music after it
    faint = [
        (*_run(segments, i, h, refs[h.recording_id], values_of, seeded, memo, faint_llr), h)
        for h in hypotheses
        if _anchors(segments, found_by.get(h.recording_id, ()), h) >= ANCHORS
    ]
    faint = [
        (total, run, h)
        for total, run, h in faint
        if total >= ACCEPT_LLR
        and _median(run) > TRUE_BER
        and _anchors(segments, (k for k in found_by[h.recording_id] if k in run), h) >= ANCHORS
    ]
    if not faint:
        return None
    _, run, draft = max(faint, key=lambda t: t[0])
    return run, draft, faint_llr


def _keeps(old: SegmentMatchInfo, recording_id: int, ber: float) -> bool:
    if old.score >= 1.0 - CLEAR_BER:
        return True
    return old.recording_id != recording_id and old.score > 1.0 - ber


def _run(
    segments: list[SegInfo],
    i: int,
    draft: PlayDraft,
    ref: npt.NDArray[np.uint32],
    values_of: ValuesOf,
    seeded: range,
    memo: Memo | None = None,
    llr: Callable[[float | None], float] = window_llr,
) -> tuple[float, dict[int, float]]:
    """The neighbours' summed LLR (``llr``, one window's) along the draft's alignment around
    segment ``i``, and the BER of each segment of the best-supported run. The ``seeded``
    segments chose the hypothesis: their LLR is not counted (they still carry the run on).
    Each segment's BER at the draft's alignment is kept in ``memo``, if given, for the next
    cycles."""

    def ber_at(seg: SegInfo) -> float | None:
        if memo is None:
            return continuation_ber(seg, draft, ref, values_of)
        key = (
            BER,
            seg.id,
            seg.start,
            draft.recording_id,
            draft.rate_ppm,
            draft.anchor_time,
            draft.anchor_offset,
        )
        return memo.get(key, partial(continuation_ber, seg, draft, ref, values_of))

    run: dict[int, float] = {}
    total = 0.0
    for step in (1, -1):
        best, s, j, prev = 0.0, 0.0, i + step, segments[i]
        kept: dict[int, float] = {}
        while 0 <= j < len(segments):
            nxt = segments[j]
            gap = (nxt.start - prev.end) if step == 1 else (prev.start - nxt.end)
            if gap.total_seconds() > GAP_S:
                break
            ber = ber_at(nxt)
            if ber is None:  # the recording is over (or not begun) there
                break
            s += 0.0 if j in seeded else llr(ber)
            kept[j] = ber
            if s > best:
                best = s
                run.update(kept)
                kept = {}
            if s < best - DROP_LLR:
                break
            prev, j = nxt, j + step
        total += best
    seed = ber_at(segments[i])
    if seed is not None:
        run[i] = seed
    return total, run


def accumulate(
    segments: list[SegInfo],
    index: CatalogIndex,
    refs: Mapping[int, npt.NDArray[np.uint32]],
    values_of: ValuesOf,
    memo: Memo | None = None,
) -> list[SegInfo]:
    """``segments`` (time-ordered) with the segments of accepted runs named; the rest unchanged.
    With a ``memo`` (the worker's, for this catalog index and these ``refs``), what each seed's
    values propose is kept for the next cycles (:mod:`collector.plays.memo`).

    Seeds are the segments the matcher did not name and those it named only faintly (BER
    over ``CLEAR_BER``): a faint match in looping music is often the right song at the wrong
    repeat. Each seed's hypotheses are its own match and its catalog candidates; the one
    whose run gathers the most evidence is tested.
    """
    rate = station_rate(segments)
    if rate is None:
        return segments
    out = list(segments)
    claimed: set[int] = set()
    found_by: dict[int, list[int]] = {}  # a recording's possible anchors: segments the matcher named it in
    for k, seg in enumerate(segments):
        if seg.match is not None and not seg.match.guided and seg.match.score >= 1.0 - ANCHOR_BER:
            found_by.setdefault(seg.match.recording_id, []).append(k)
    for i, seg in enumerate(segments):
        m = seg.match
        if i in claimed or (m is not None and m.score >= 1.0 - CLEAR_BER):
            continue
        span = _span(segments, i)
        nearby = frozenset(_nearby(segments, i) & refs.keys())
        if memo is None:
            found = _proposals(segments, span, rate, values_of, index, refs, nearby)
        else:
            key = (tuple((s.id, s.start) for s in segments[span.start : span.stop]), rate, nearby)
            found = memo.get(key, partial(_proposals, segments, span, rate, values_of, index, refs, nearby))
        if found is None:
            continue
        first, proposed = found
        hypotheses = [PlayDraft(rid, rate, first, off) for rid, off in proposed]
        if m is not None and m.recording_id in refs:
            hypotheses.append(PlayDraft(m.recording_id, rate, m.value_start, m.offset_s))
        chosen = _choose(segments, i, hypotheses, span, refs, values_of, memo, found_by)
        if chosen is None:
            continue
        run, draft, llr = chosen
        for k, ber in run.items():
            old = out[k].match
            # a faint match of the same recording elsewhere (a repeat of a loop) yields to the run;
            # a clear one, or another recording's match that fits better, stays, and so does what
            # an earlier run named where it fits better (a later seed's run at another repeat of a
            # looping song, carried back over the song by the loop's faint agreement)
            if llr(ber) <= 0 or (
                old is not None
                and (_keeps(old, draft.recording_id, ber) or (k in claimed and old.score > 1.0 - ber))
            ):
                continue
            kfp = values_of(segments[k].id, rate)
            assert kfp is not None
            s_k = segments[k]
            out[k] = SegInfo(
                s_k.id,
                s_k.start,
                s_k.end,
                SegmentMatchInfo(draft.recording_id, draft.offset_at(kfp.start), kfp.start, rate, 1.0 - ber),
            )
            claimed.add(k)
    return out
