"""A song heard in parts on one station grows its cluster's reference: forward and backward.

A cluster's reference is the broadcast audio the collector has heard of its song, and a
learned recording's reference is its cluster's. A new music span that matches no cluster
may still be the same song, heard end to end with what is known on the same station:

* **split**: the span starts where the station's previous span ended (within
  ``SPLIT_GAP_S``), that span reaches the end of its cluster's reference, and what lies
  between is almost music (no window below ``GAP_SCORE``): the song went on past a quiet
  passage where musicness cut it, not past talk, a jingle or dead air (:func:`split`);
* **forward**: the span starts where a play of a learned recording ended (within
  ``PLAY_GAP_S``: the play's last segment), at the end of its reference: the rest of the song;
* **backward**: the span ends where such a play began, at the start of its reference: the
  song's beginning, which was not heard when it was learned (:func:`continued` finds both);
  farther from the play too, past a quiet passage musicness did not call music, when the span
  lies within the song's bounds as its provider placed them, with no other play between.

:func:`extend` then adds the station's own audio from the reference's end to the span's end,
or from the span's start to the reference's start, gaps included, so that the reference stays
one continuous stretch of the song; a head put before it moves every offset into it (the
cluster's spans, the recording's matches and plays) by as much. When the provider that named
the cluster said where its excerpt plays in the song and how long the song is (AudD's
``timecode`` and duration), the reference grows no further than the song's ends, and a span
past them is another song; :func:`trim` cuts a reference that grew past them before the song
was named (another song's end run into it). Nothing here commits.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.fleet.models import Station
from collector.fpmath import aligned_ber
from collector.matching.matcher import MAX_BER
from collector.matching.models import SegmentMatch
from collector.musicness import window_scores
from collector.plays.models import Play, PlaySegment
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.learning import LEARNED_SOURCES
from collector.recognizers.values import reference_blob, station_values
from shared.chroma import item_duration
from shared.codec import decode

__all__ = [
    "ADJACENT_S",
    "MAX_REFERENCE_S",
    "OUTER_S",
    "Anchor",
    "bounded",
    "continued",
    "extend",
    "grow",
    "reference_seconds",
    "song_bounds",
    "split",
    "trim",
]

log = logging.getLogger("collector.recognizers")

MAX_REFERENCE_S = 15 * 60.0  # a cluster's reference grows up to this
ADJACENT_S = 3.0  # "at the end (start) of the reference", "past the song's end": within this
SPLIT_GAP_S = 5.0  # musicness leaves up to a few seconds between two spans of one song
# the lowest music logit of a window between two spans of one song: a song's quiet passage scores
# just below 0 (-1.5 at worst in the week benchmark), talk and DJ lines -2.5 to -6, silence -inf
GAP_SCORE = -2.0
PLAY_GAP_S = 12.0  # a play ends (starts) within its last (first) 10 s segment of the next span
OVERLAP_S = 6.0  # ...or the span holds the half of a segment that the play holds too
# musicness places a span's ends to a 5 s window: a span tends to begin (end) half a window into
# the talk before (after) the song, and the reference grows to the middle of that window
EDGE_TRIM_S = 2.5
CONTINUE_CHECK_S = 8.0  # a span going on in a reference is checked against it over this or more
# a span this far from a learned song's play may still lie within the song (past a quiet passage)
REACH = timedelta(seconds=MAX_REFERENCE_S)
# ...when it lies within the song to this: its outer edge may lie half musicness's window into the
# talk beyond the song, and the provider's timecode is to the second
OUTER_S = ADJACENT_S + EDGE_TRIM_S
_UNBOUNDED = (-math.inf, math.inf)


@dataclass(frozen=True)
class Anchor:
    """Where a cluster's reference plays on one station: it starts at ``start``, ends at ``end``."""

    cluster: UnknownCluster
    start: datetime
    end: datetime


def song_bounds(session: Session, cluster: UnknownCluster) -> tuple[float, float]:
    """Where the named song starts and ends in the cluster's reference (seconds; the start is
    negative when the song began before what was heard), from the timecode and duration the
    provider gave for the excerpt it named; unbounded when it gave neither (AcoustID, a person)."""
    rec = session.get(Recording, cluster.recording_id) if cluster.recording_id else None
    span = session.get(UnknownSpan, cluster.best_span_id) if cluster.best_span_id else None
    if rec is None or span is None:
        return _UNBOUNDED
    for c in reversed(cluster.candidates or []):
        at, length = _seconds(c.get("timecode")), c.get("duration")
        if c.get("title") == rec.title and at is not None and isinstance(length, int | float) and length > 0:
            heard = span.offset_s + (span.excerpt_start - span.start).total_seconds()
            return heard - at, heard - at + float(length)
    return _UNBOUNDED


def bounded(session: Session, cluster: UnknownCluster) -> bool:
    """Whether the provider that named the cluster said where the song starts and ends."""
    return all(map(math.isfinite, song_bounds(session, cluster)))


def _seconds(timecode: object) -> float | None:
    """AudD's ``timecode`` ("MM:SS", or "HH:MM:SS") in seconds, or None."""
    if not isinstance(timecode, str):
        return None
    try:
        parts = [float(p) for p in timecode.split(":")]
    except ValueError:
        return None
    return sum(p * 60**i for i, p in enumerate(reversed(parts))) if parts else None


def reference_seconds(cluster: UnknownCluster) -> float:
    """The length of the cluster's reference, in seconds."""
    return decode(cluster.reference).duration


def continued(
    session: Session, station_id: int, start: datetime, end: datetime, reach: bool = True
) -> Anchor | None:
    """The learned song this span continues on the station: the play just before it (after it)
    ends (begins) at the end (start) of its reference, and either the span starts (ends) next to
    it, while the provider's timecode (when it gave one) says the song goes on that way, or the
    span lies within the song's bounds as the provider placed them: the song went on past a
    quiet passage that musicness did not call music, and its part after the passage is the
    song's too (not with ``reach`` False: music shorter than a span, a jingle as well as a song's
    end, continues only a play next to it). Another play between them (of any recording) is
    another song."""
    gap, near = timedelta(seconds=PLAY_GAP_S), timedelta(seconds=OVERLAP_S)
    plays = select(Play).where(Play.station_id == station_id)
    before = session.scalars(
        plays.where(Play.end <= start + near, Play.end >= start - REACH).order_by(Play.end.desc()).limit(1)
    ).first()
    if before is not None and (cluster := _learned(session, before.recording_id)) is not None:
        length = reference_seconds(cluster)
        last = song_bounds(session, cluster)[1]
        within = (
            reach
            and math.isfinite(last)
            and end <= before.end + timedelta(seconds=last - before.offset_end + OUTER_S)
        )
        if (
            before.offset_end >= length - ADJACENT_S
            and last > length + ADJACENT_S
            and (before.end >= start - gap or within)
        ):
            return _anchor(cluster, before, length)
    after = session.scalars(
        plays.where(Play.start >= end - near, Play.start <= end + REACH).order_by(Play.start).limit(1)
    ).first()
    if after is not None and (cluster := _learned(session, after.recording_id)) is not None:
        first = song_bounds(session, cluster)[0]
        within = (
            reach
            and math.isfinite(first)
            and start >= after.start + timedelta(seconds=first - after.offset_start - OUTER_S)
        )
        if after.offset_start <= ADJACENT_S and first < -ADJACENT_S and (after.start <= end + gap or within):
            return _anchor(cluster, after, reference_seconds(cluster))
    return None


def _learned(session: Session, recording_id: int) -> UnknownCluster | None:
    """The open cluster a learned recording was made from, or None (a catalog recording)."""
    return session.scalars(
        select(UnknownCluster)
        .join(Recording, Recording.id == UnknownCluster.recording_id)
        .where(
            UnknownCluster.recording_id == recording_id,
            Recording.source.in_(LEARNED_SOURCES),
            UnknownCluster.merged_into.is_(None),
        )
        .limit(1)
    ).first()


def _anchor(cluster: UnknownCluster, play: Play, length: float) -> Anchor:
    return Anchor(
        cluster,
        play.start - timedelta(seconds=play.offset_start),
        play.end + timedelta(seconds=length - play.offset_end),
    )


def split(
    session: Session, station_id: int, start: datetime, end: datetime, values: npt.NDArray[np.uint32]
) -> Anchor | None:
    """The cluster whose span of the station ends where this one (``values``) starts, with
    little but music between: the same song, cut in two, when this one goes on in the cluster's
    reference from where the span before left it (:func:`_goes_on`), or runs past its end (and,
    once named, the song goes on past that end). The span before may have reached the
    reference's end, or stopped short of it: this one then shares too little with the reference
    to be placed in it by its chunks, or went through a chain that kept too few of its values'
    keys for the search to find it there, yet it is the reference's audio where it plays."""
    prev = session.execute(
        select(UnknownSpan, UnknownCluster)
        .join(UnknownCluster, UnknownCluster.id == UnknownSpan.cluster_id)
        .where(
            UnknownSpan.station_id == station_id,
            UnknownSpan.end >= start - timedelta(seconds=SPLIT_GAP_S),
            UnknownSpan.end <= start + timedelta(seconds=ADJACENT_S),
            UnknownCluster.merged_into.is_(None),
            UnknownCluster.decision.is_distinct_from("rejected"),
        )
        .order_by(UnknownSpan.end.desc())
        .limit(1)
    ).first()
    if prev is None:
        return None
    span, cluster = prev
    station = session.get_one(Station, station_id)
    edge = timedelta(seconds=EDGE_TRIM_S)  # the windows on the spans' edges, half in the gap
    between = window_scores(station_values(session, station, span.end - 2 * edge, start + 2 * edge))
    if between.size == 0 or between.min() < GAP_SCORE:
        return None  # talk, a jingle or dead air between: another song, or the same one aired again
    length = reference_seconds(cluster)
    at = span.offset_s + (start - span.start).total_seconds()  # where the span goes on in it
    past = at + (end - start).total_seconds() > length + ADJACENT_S
    if past and song_bounds(session, cluster)[1] <= length + ADJACENT_S:
        return None  # the song ends where the reference does: this is another one
    if not _goes_on(cluster, values, at):
        return None  # what the span shares with the reference is not that part of it
    return Anchor(
        cluster,
        span.start - timedelta(seconds=span.offset_s),
        span.start + timedelta(seconds=length - span.offset_s),
    )


def _goes_on(cluster: UnknownCluster, values: npt.NDArray[np.uint32], at: float) -> bool:
    """Whether the span's values, heard at ``at`` seconds into the reference, are the reference's
    there (held to the matcher's bit error rate, within the drift of two stations' rates) when
    they share ``CONTINUE_CHECK_S`` or more with it; a shorter overlap (a span running past the
    reference's end) is taken on the spans' timing and the music between them."""
    ref, step = decode(cluster.reference).values, item_duration(0)
    first = round(at / step)
    if ref.size - first < round(CONTINUE_CHECK_S / step):
        return True
    slack = max(3, int(0.03 * (ref.size - first)))
    ber = min(aligned_ber(values, ref, first + d)[0] for d in range(-slack, slack + 1))
    return ber <= MAX_BER


def extend(
    session: Session, anchor: Anchor, station: Station, start: datetime, end: datetime
) -> tuple[float, float, float]:
    """Grow the anchor's reference over the span [start, end) of ``station``, within the song's
    bounds and ``MAX_REFERENCE_S``; return the span's offset (seconds) in the grown reference,
    and the seconds the reference grew by before its start and after its end."""
    cluster, step = anchor.cluster, item_duration(0)
    ref = decode(cluster.reference).values
    length = ref.size * step
    first, last = song_bounds(session, cluster)
    room = round(MAX_REFERENCE_S / step) - ref.size
    head = tail = np.zeros(0, dtype=np.uint32)
    trim = timedelta(seconds=EDGE_TRIM_S)
    if start + trim < anchor.start and room > 0:
        since = max(start + trim, anchor.start + timedelta(seconds=max(first, -MAX_REFERENCE_S)))
        head = station_values(session, station, since, anchor.start)[-room:]
        room -= head.size
    if end - trim > anchor.end and room > 0:
        until = min(end - trim, anchor.end + timedelta(seconds=min(last, MAX_REFERENCE_S) - length))
        tail = station_values(session, station, anchor.end, until)[:room]
    shift = head.size * step
    grow(session, cluster, head, tail)
    grown = (shift, tail.size * step)
    if start < anchor.start:
        return max(0.0, shift + (start - anchor.start).total_seconds()), *grown
    return max(0.0, shift + length + (start - anchor.end).total_seconds()), *grown


def grow(
    session: Session, cluster: UnknownCluster, head: npt.NDArray[np.uint32], tail: npt.NDArray[np.uint32]
) -> None:
    """Put ``head`` before the cluster's reference and ``tail`` after it (its learned recording's
    too); every offset into it moves by the head's length."""
    if not (head.size or tail.size):
        return
    step = item_duration(0)
    cluster.reference = reference_blob(np.concatenate([head, decode(cluster.reference).values, tail]))
    if head.size:
        _shift(session, cluster, head.size * step)
    rec = _relearn(session, cluster)
    if rec is not None:
        log.info(
            "learned recording id=%d grows to %.0f s (%.0f s before, %.0f s after; cluster %d)",
            rec.id,
            rec.duration,
            head.size * step,
            tail.size * step,
            cluster.id,
        )


def trim(session: Session, cluster: UnknownCluster) -> float:
    """Cut the named cluster's reference (its learned recording's too) to the song's bounds, as
    the provider placed them (within ``ADJACENT_S``); return the seconds cut.

    Before it was named, a cluster grew by any span placed in it, and a span that held the end of
    another song run straight into this one (no cut musicness could see, too short to be cut off
    as a song of its own: :mod:`collector.recognizers.parts`) put that end before the reference:
    the learned recording would then name the other song's end on every station that airs it.
    What lies outside the song's bounds is not the song."""
    first, last = song_bounds(session, cluster)
    if not (math.isfinite(first) and math.isfinite(last)):
        return 0.0
    step, ref = item_duration(0), decode(cluster.reference).values
    lo = max(0, math.floor((first - ADJACENT_S) / step))
    hi = min(ref.size, math.ceil((last + ADJACENT_S) / step))
    if (lo == 0 and hi == ref.size) or hi - lo < round(CONTINUE_CHECK_S / step):
        return 0.0  # all within the song, or the bounds miss what was heard: left as it is
    cluster.reference = reference_blob(ref[lo:hi])
    if lo:
        _shift(session, cluster, -lo * step)
    _relearn(session, cluster)
    log.info(
        "cluster %d: reference cut to the song's bounds (%.0f s before its start, %.0f s after its end)",
        cluster.id,
        lo * step,
        (ref.size - hi) * step,
    )
    return (ref.size - (hi - lo)) * step


def _relearn(session: Session, cluster: UnknownCluster) -> Recording | None:
    """The cluster's learned recording takes its (changed) reference."""
    if cluster.recording_id is None:
        return None
    rec = session.get_one(Recording, cluster.recording_id)
    rec.fingerprint = cluster.reference
    rec.fingerprint_sha256 = hashlib.sha256(cluster.reference).hexdigest()
    rec.duration = reference_seconds(cluster)
    return rec


def _shift(session: Session, cluster: UnknownCluster, seconds: float) -> None:
    """``seconds`` were put before the reference: every offset into it moves by as much."""
    session.execute(
        update(UnknownSpan)
        .where(UnknownSpan.cluster_id == cluster.id)
        .values(offset_s=UnknownSpan.offset_s + seconds)
    )
    rid = cluster.recording_id
    if rid is None:
        return
    session.execute(
        update(SegmentMatch)
        .where(SegmentMatch.recording_id == rid)
        .values(offset_s=SegmentMatch.offset_s + seconds)
    )
    plays = select(Play.id).where(Play.recording_id == rid)
    session.execute(
        update(PlaySegment).where(PlaySegment.play_id.in_(plays)).values(offset=PlaySegment.offset + seconds)
    )
    session.execute(
        update(Play)
        .where(Play.recording_id == rid)
        .values(offset_start=Play.offset_start + seconds, offset_end=Play.offset_end + seconds)
    )
