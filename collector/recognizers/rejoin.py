"""Parts of one song that clustering kept apart become one once the song is named.

A span placed in a cluster by a minority of its audio is cut where it leaves the cluster's
reference (:func:`collector.recognizers.parts.foreign`): two songs run together with no
cut musicness can see must not make one cluster. The same cut also separates one song heard
further than its cluster's reference reached, and nothing in the audio tells the two apart
before a provider names one of the parts. Once it does, with the timecode and the duration
that say where the song starts and ends, :func:`rejoin` looks at each of the named cluster's
spans that meets another cluster's span on its station (where a cut was made): when no
provider could name that neighbour (``not_found``, ``no_audio``) and its audio lies within the
song's bounds, it is the same song, and its cluster joins the named one, its audio added to the
reference where that neighbour plays (within the song's bounds). A neighbour
outside the bounds is the other song of a crossfade and stays apart; one a provider has not
been asked about yet is asked (a crossfade's other song, cut at a radio edit's end, may lie
within the first song's bounds): if no provider knows it, it joins then.

A song's quiet passage, which musicness does not call music, parts one airing in spans that do
not meet: the part that matched no cluster is a cluster of its own, too short to be looked up
or not asked yet. Once the song is named, :func:`rejoin` also looks at the span of another
cluster just before (after) each of the named cluster's spans on its station, with nothing
aired between that was matched or clustered: when no provider named that cluster and the span
lies within the song's bounds, it joins the named one, the station's audio between included
(:func:`growth.extend`), and is never looked up. Nothing here commits.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from collector.fleet.models import Station
from collector.plays.models import Play
from collector.recognizers import growth
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.queue import merge
from shared.chroma import item_duration
from shared.codec import decode

__all__ = ["rejoin"]

log = logging.getLogger("collector.recognizers")

TOUCH_S = 0.05  # the two parts of a cut span meet at the same instant
UNKNOWN = ("not_found", "no_audio")  # a part no provider could name
UNASKED = ("waiting", "acoustid")  # a part no paid service was asked about yet


def rejoin(session: Session, cluster: UnknownCluster) -> int:
    """After a lookup: join the parts cut from the cluster's spans that are one song with it
    (the cluster named, its neighbours no provider knew; or the cluster unknown, its neighbour
    named); return how many clusters joined."""
    named = cluster.recording_id is not None
    if not named and cluster.lookup not in UNKNOWN:
        return 0
    joined = 0
    for span, other, neighbour in _neighbours(session, cluster, named):
        if named:
            if _within(session, cluster, span, other):
                _join(session, cluster, span, other)
                joined += 1
        elif _within(session, neighbour, other, span):
            _join(session, neighbour, other, span)
            return 1  # this cluster is merged: nothing more to join
    if named:
        joined += _past_quiet(session, cluster)
    return joined


def _past_quiet(session: Session, cluster: UnknownCluster) -> int:
    """Join the clusters no provider named whose span lies within the named cluster's song on a
    station, parted from its span there by audio nothing matched or clustered; return how many."""
    first, last = growth.song_bounds(session, cluster)
    if not (math.isfinite(first) and math.isfinite(last)):
        return 0
    joined = 0
    spans = session.scalars(
        select(UnknownSpan).where(UnknownSpan.cluster_id == cluster.id).order_by(UnknownSpan.start)
    ).all()
    for span in spans:
        for other in (_nearest(session, span, True), _nearest(session, span, False)):
            if other is None or other.cluster_id == cluster.id or _meets(span, other):
                continue
            sibling = session.get_one(UnknownCluster, other.cluster_id)
            open_ = sibling.merged_into is None and sibling.decision is None and sibling.recording_id is None
            if not (open_ and sibling.lookup in UNKNOWN + UNASKED):
                continue
            if not _within(session, cluster, span, other, growth.OUTER_S) or _played_between(
                session, span, other
            ):
                continue
            length = growth.reference_seconds(cluster)
            origin = span.start - timedelta(seconds=span.offset_s)
            anchor = growth.Anchor(cluster, origin, origin + timedelta(seconds=length))
            if other.start < anchor.end and anchor.start < other.end:
                continue  # it aired where the reference is: not a part the reference lacks
            station = session.get_one(Station, span.station_id)
            at, before_s, after_s = growth.extend(session, anchor, station, other.start, other.end)
            session.execute(
                update(UnknownSpan)
                .where(UnknownSpan.cluster_id == sibling.id)
                .values(offset_s=UnknownSpan.offset_s + (at - other.offset_s))
            )
            merge(session, sibling, cluster, "collector")
            log.info(
                "cluster %d joins named cluster %d (%.0f s before its reference, %.0f s after): within the "
                "song's bounds on its station, past a quiet passage",
                sibling.id,
                cluster.id,
                before_s,
                after_s,
            )
            joined += 1
    return joined


def _nearest(session: Session, span: UnknownSpan, before: bool) -> UnknownSpan | None:
    """The station's span (of any cluster) just before ``span`` (or just after it)."""
    reach = timedelta(seconds=growth.MAX_REFERENCE_S)
    stmt = select(UnknownSpan).where(UnknownSpan.station_id == span.station_id, UnknownSpan.id != span.id)
    if before:
        stmt = stmt.where(UnknownSpan.end <= span.start, UnknownSpan.end >= span.start - reach)
        stmt = stmt.order_by(UnknownSpan.end.desc())
    else:
        stmt = stmt.where(UnknownSpan.start >= span.end, UnknownSpan.start <= span.end + reach)
        stmt = stmt.order_by(UnknownSpan.start)
    return session.scalars(stmt.limit(1)).first()


def _meets(span: UnknownSpan, other: UnknownSpan) -> bool:
    touch = timedelta(seconds=TOUCH_S)
    return abs(other.end - span.start) <= touch or abs(other.start - span.end) <= touch


def _played_between(session: Session, span: UnknownSpan, other: UnknownSpan) -> bool:
    """Whether a play of the station lies between the two spans (another song aired there)."""
    a, b = min(span.end, other.end), max(span.start, other.start)
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Play)
            .where(Play.station_id == span.station_id, Play.start < b, Play.end > a)
        )
    )


def _neighbours(
    session: Session, cluster: UnknownCluster, named: bool
) -> list[tuple[UnknownSpan, UnknownSpan, UnknownCluster]]:
    """(the cluster's span, another cluster's span meeting it on its station, that cluster):
    unknown clusters when this one is named, named ones when this one is unknown."""
    touch = timedelta(seconds=TOUCH_S)
    out = []
    spans = session.scalars(
        select(UnknownSpan).where(UnknownSpan.cluster_id == cluster.id).order_by(UnknownSpan.start)
    ).all()
    for span in spans:
        stmt = (
            select(UnknownSpan, UnknownCluster)
            .join(UnknownCluster, UnknownCluster.id == UnknownSpan.cluster_id)
            .where(
                UnknownSpan.station_id == span.station_id,
                UnknownSpan.cluster_id != cluster.id,
                or_(
                    UnknownSpan.end.between(span.start - touch, span.start + touch),
                    UnknownSpan.start.between(span.end - touch, span.end + touch),
                ),
                UnknownCluster.merged_into.is_(None),
                UnknownCluster.decision.is_(None),
            )
        )
        if named:
            stmt = stmt.where(UnknownCluster.recording_id.is_(None), UnknownCluster.lookup.in_(UNKNOWN))
        else:
            stmt = stmt.where(UnknownCluster.recording_id.is_not(None))
        out += [(span, other, neighbour) for other, neighbour in session.execute(stmt).all()]
    return out


def _within(
    session: Session,
    cluster: UnknownCluster,
    span: UnknownSpan,
    other: UnknownSpan,
    slack: float = growth.ADJACENT_S,
) -> bool:
    """Whether ``other``, near the named cluster's ``span``, lies within the song's bounds, to
    ``slack`` seconds (never when the provider did not say where the song starts and ends)."""
    first, last = growth.song_bounds(session, cluster)
    if not (math.isfinite(first) and math.isfinite(last)):
        return False
    at = _meets_at(span, other)
    return first - slack <= at and at + other.seconds <= last + slack


def _meets_at(span: UnknownSpan, other: UnknownSpan) -> float:
    """Where ``other``, aired on ``span``'s station before it or after it (meeting it, or past a
    quiet passage), begins in the reference of ``span``'s cluster, in seconds."""
    return span.offset_s + (other.start - span.start).total_seconds()


def _join(session: Session, cluster: UnknownCluster, span: UnknownSpan, other: UnknownSpan) -> None:
    """``other`` (of another cluster) meets the named cluster's ``span`` on its station: that
    cluster's reference joins the named one's where ``other`` plays (within the song's bounds
    and ``MAX_REFERENCE_S``), and its spans move there."""
    step, (first, last) = item_duration(0), growth.song_bounds(session, cluster)
    sibling = session.get_one(UnknownCluster, other.cluster_id)
    ref, theirs = decode(cluster.reference).values, decode(sibling.reference).values
    # where their reference starts in this one
    origin = round((_meets_at(span, other) - other.offset_s) / step)
    lo = max(origin, math.ceil(first / step), ref.size - round(growth.MAX_REFERENCE_S / step))
    hi = min(origin + theirs.size, math.floor(last / step), round(growth.MAX_REFERENCE_S / step))
    head = theirs[lo - origin : min(0, hi) - origin] if lo < 0 <= hi else theirs[:0]
    tail = theirs[max(lo, ref.size) - origin : hi - origin] if lo <= ref.size < hi else theirs[:0]
    growth.grow(session, cluster, head, tail)
    session.execute(
        update(UnknownSpan)
        .where(UnknownSpan.cluster_id == sibling.id)
        .values(offset_s=UnknownSpan.offset_s + (origin + head.size) * step)
    )
    merge(session, sibling, cluster, "collector")
    log.info(
        "cluster %d joins named cluster %d (%.0f s before its reference, %.0f s after): cut from one "
        "span, within the song's bounds",
        sibling.id,
        cluster.id,
        head.size * step,
        tail.size * step,
    )
