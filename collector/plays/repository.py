"""Queries behind the plays: what a rebuild reads and replaces. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.fleet.models import Agent, Station, StationStatus
from collector.ingest.models import Event, Heartbeat, Segment, SegmentFingerprint
from collector.matching.models import SegmentMatch
from collector.plays.models import Play, PlaySegment


def earliest_open_play(session: Session, station_id: int) -> datetime | None:
    return session.scalar(
        select(func.min(Play.start)).where(Play.station_id == station_id, Play.status == "open")
    )


def open_play_bounds(session: Session) -> list[tuple[int, datetime, datetime]]:
    """(station id, start of its earliest open play, earliest end of one) for every station with
    open plays: one query for them all."""
    rows = session.execute(
        select(Play.station_id, func.min(Play.start), func.min(Play.end))
        .where(Play.status == "open")
        .group_by(Play.station_id)
    )
    return [(sid, start, end) for sid, start, end in rows]


def play_bounds(session: Session, station_id: int, since: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of the station's plays that end after ``since``, in order."""
    rows = session.execute(
        select(Play.start, Play.end)
        .where(Play.station_id == station_id, Play.end > since)
        .order_by(Play.start)
    )
    return [(start, end) for start, end in rows]


def stations_stopped_since(session: Session, since: dict[int, datetime]) -> set[int]:
    """Of the stations in ``since``, those with an outage or a silence that began at or after
    their time there: one query for them all."""
    if not since:
        return set()
    rows = session.execute(
        select(Event.station_id, func.max(Event.start))
        .where(
            Event.station_id.in_(list(since)),
            Event.kind.in_(("outage", "silence")),
            Event.start >= min(since.values()),
        )
        .group_by(Event.station_id)
    )
    return {sid for sid, latest in rows if latest >= since[sid]}


def open_plays(session: Session, station_id: int) -> list[Play]:
    return list(
        session.scalars(
            select(Play).where(Play.station_id == station_id, Play.status == "open").order_by(Play.start)
        )
    )


def audio_since(
    session: Session, station_id: int, since: datetime
) -> tuple[datetime | None, datetime | None, bool]:
    """Of the station's segments starting from ``since``: where the latest audio already matched
    ends, when the last one came in, and whether any waits for matching."""
    where = (Segment.station_id == station_id, Segment.start >= since)
    received, waiting = session.execute(
        select(
            func.max(Segment.received_at),
            func.coalesce(func.sum(case((Segment.status.in_(("new", "claimed")), 1), else_=0)), 0),
        ).where(*where)
    ).one()
    # the latest segments by start; after a crash a shorter one may start later and end earlier
    heard = Segment.status.in_(("matched", "unmatched"))
    tail = session.execute(
        select(Segment.start, Segment.duration).where(*where, heard).order_by(Segment.start.desc()).limit(3)
    )
    ends = [start + timedelta(seconds=duration) for start, duration in tail]
    return (max(ends) if ends else None), received, bool(waiting)


def stops_since(session: Session, station_id: int, since: datetime) -> list[tuple[datetime, datetime | None]]:
    """(start, end or None while it lasts) of the station's outages and silences from ``since``."""
    rows = session.execute(
        select(Event.start, Event.end)
        .where(Event.station_id == station_id, Event.kind.in_(("outage", "silence")), Event.start >= since)
        .order_by(Event.start)
    )
    return [(start, end) for start, end in rows]


def agent_quiet_since(session: Session, station_id: int) -> datetime | None:
    """When the agent that last reported on the station last said its upload queue was empty
    (its latest heartbeat, if that says so)."""
    agent_id = session.scalar(select(StationStatus.agent_id).where(StationStatus.station_id == station_id))
    if agent_id is None:
        return None
    row = session.execute(
        select(Heartbeat.received_at, Heartbeat.payload)
        .where(Heartbeat.agent_id == agent_id)
        .order_by(Heartbeat.received_at.desc())
        .limit(1)
    ).first()
    if row is None or row[1].get("queue_depth") != 0:
        return None
    received: datetime = row[0]
    return received


def segments_to_assemble(session: Session, station_id: int, since: datetime) -> Sequence[Any]:
    """The station's matched or unmatched segments from ``since`` on that no final play holds,
    with their match if any: rows of (id, start, duration, SegmentMatch | None) in time order."""
    frozen = (
        select(PlaySegment.segment_id)
        .join(Play, Play.id == PlaySegment.play_id)
        .where(Play.station_id == station_id, Play.status == "final")
    )
    return session.execute(
        select(Segment.id, Segment.start, Segment.duration, SegmentMatch)
        .outerjoin(
            SegmentMatch,
            (SegmentMatch.segment_id == Segment.id) & (SegmentMatch.segment_start == Segment.start),
        )
        .where(
            Segment.station_id == station_id,
            Segment.start >= since,
            Segment.status.in_(("matched", "unmatched")),
            Segment.id.not_in(frozen),
        )
        .order_by(Segment.start, Segment.id)
    ).all()


def delete_open_plays(session: Session, station_id: int, ending_from: datetime) -> None:
    """Delete the station's open plays that end at or after ``ending_from``, and their audit rows."""
    open_plays = select(Play.id).where(
        Play.station_id == station_id, Play.status == "open", Play.end >= ending_from
    )
    session.execute(delete(PlaySegment).where(PlaySegment.play_id.in_(open_plays)))
    session.execute(delete(Play).where(Play.id.in_(open_plays)))


def fingerprint_blobs(
    session: Session, segment_ids: Sequence[int], since: datetime
) -> dict[tuple[int, int], bytes]:
    """Every fingerprint of the segments (none starts before ``since``: PostgreSQL then reads
    only their months' partitions), by (segment id, rate_ppm): one query per 500 segments."""
    out: dict[tuple[int, int], bytes] = {}
    for i in range(0, len(segment_ids), 500):
        rows = session.execute(
            select(SegmentFingerprint.segment_id, SegmentFingerprint.rate_ppm, SegmentFingerprint.data).where(
                SegmentFingerprint.segment_id.in_(segment_ids[i : i + 500]),
                SegmentFingerprint.segment_start >= since,
            )
        )
        out.update({(sid, rate): data for sid, rate, data in rows})
    return out


def fingerprint_blob(session: Session, segment_id: int, rate_ppm: int) -> bytes | None:
    return session.scalar(
        select(SegmentFingerprint.data).where(
            SegmentFingerprint.segment_id == segment_id, SegmentFingerprint.rate_ppm == rate_ppm
        )
    )


def plays_with_recordings(
    session: Session, station_id: int, start: datetime, end: datetime
) -> list[tuple[Play, Recording]]:
    """The station's plays overlapping [start, end), with their recordings, in time order."""
    rows = session.execute(
        select(Play, Recording)
        .join(Recording, Recording.id == Play.recording_id)
        .where(Play.station_id == station_id, Play.start < end, Play.end > start)
        .order_by(Play.start)
    )
    return [(play, rec) for play, rec in rows]


# ---- what the web app reads: a station's latest plays, a play's evidence, a station's day ---------


def latest_plays(session: Session, exclude: Sequence[Any] = ()) -> list[tuple[Play, Recording]]:
    """Each station's latest play (open or final) by start, with its recording: one index seek
    per station (``ix_plays_station_start``), never a scan of the plays."""
    latest = (
        select(Play.id)
        .where(Play.station_id == Station.id, *exclude)
        .order_by(Play.start.desc(), Play.id.desc())
        .limit(1)
        .correlate(Station)
        .scalar_subquery()
    )
    ids = [i for i in session.scalars(select(latest).select_from(Station)) if i is not None]
    if not ids:
        return []
    rows = session.execute(
        select(Play, Recording).join(Recording, Recording.id == Play.recording_id).where(Play.id.in_(ids))
    )
    return [(play, rec) for play, rec in rows]


def plays_changed_since(session: Session, since: datetime, limit: int) -> list[tuple[Play, Recording, str]]:
    """Plays written (created, rebuilt, finalised) after ``since``, oldest first."""
    rows = session.execute(
        select(Play, Recording, Station.slug)
        .join(Recording, Recording.id == Play.recording_id)
        .join(Station, Station.id == Play.station_id)
        .where(Play.updated_at > since)
        .order_by(Play.updated_at, Play.id)
        .limit(limit)
    )
    return [(p, r, slug) for p, r, slug in rows]


def play_with_recording(session: Session, play_id: int) -> tuple[Play, Recording, str] | None:
    row = session.execute(
        select(Play, Recording, Station.slug)
        .join(Recording, Recording.id == Play.recording_id)
        .join(Station, Station.id == Play.station_id)
        .where(Play.id == play_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def play_segments(session: Session, play_id: int) -> list[tuple[PlaySegment, Segment]]:
    """The segments behind a play, with what they matched, in time order."""
    rows = session.execute(
        select(PlaySegment, Segment)
        .join(Segment, Segment.id == PlaySegment.segment_id)
        .where(PlaySegment.play_id == play_id)
        .order_by(Segment.start, Segment.id)
    )
    return [(ps, seg) for ps, seg in rows]


def agent_names(session: Session, agent_ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(list(agent_ids))))
    return {aid: name for aid, name in rows}


def events_between(
    session: Session, station_id: int, kinds: Sequence[str], start: datetime, end: datetime
) -> list[Event]:
    """The station's events of ``kinds`` overlapping [start, end) (open ones included), by start."""
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.station_id == station_id,
                Event.kind.in_(list(kinds)),
                Event.start < end,
                or_(Event.end.is_(None), Event.end > start),
            )
            .order_by(Event.start, Event.id)
        )
    )


def titles_around(session: Session, station_id: int, start: datetime, end: datetime) -> list[Event]:
    """ICY title events from the last one before ``start`` to the last one before ``end``."""
    before = session.scalar(
        select(func.max(Event.start)).where(
            Event.station_id == station_id, Event.kind == "metadata", Event.start <= start
        )
    )
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.station_id == station_id,
                Event.kind == "metadata",
                Event.start >= (before or start),
                Event.start < end,
            )
            .order_by(Event.start, Event.id)
        )
    )


def next_title_start(session: Session, station_id: int, after: datetime) -> datetime | None:
    return session.scalar(
        select(func.min(Event.start)).where(
            Event.station_id == station_id, Event.kind == "metadata", Event.start > after
        )
    )


def unmatched_segments(
    session: Session, station_id: int, start: datetime, end: datetime, min_level_dbfs: float
) -> list[tuple[datetime, float]]:
    """(start, duration) of the station's segments in [start, end) that matched nothing and are
    not silence, in time order (the timeline's unknown stretches)."""
    rows = session.execute(
        select(Segment.start, Segment.duration)
        .where(
            Segment.station_id == station_id,
            Segment.start >= start,
            Segment.start < end,
            Segment.status == "unmatched",
            ~exists().where(
                SegmentMatch.segment_id == Segment.id, SegmentMatch.segment_start == Segment.start
            ),
            or_(Segment.level_dbfs.is_(None), Segment.level_dbfs >= min_level_dbfs),
        )
        .order_by(Segment.start, Segment.id)
    )
    return [(s, d) for s, d in rows]


def segment_seconds(session: Session, station_id: int, start: datetime, end: datetime) -> float:
    """Seconds of audio received for the station in segments starting in [start, end)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Segment.duration), 0.0)).where(
            Segment.station_id == station_id, Segment.start >= start, Segment.start < end
        )
    )
    return float(total or 0.0)


def station_ids_by_slug(session: Session) -> dict[str, int]:
    return {slug: sid for slug, sid in session.execute(select(Station.slug, Station.id))}


def plays_overlapping(
    session: Session, station_id: int, recording_id: int, start: datetime, end: datetime
) -> list[tuple[Play, Recording, str]]:
    """The station's plays of one recording overlapping [start, end) (those a flag covers)."""
    rows = session.execute(
        select(Play, Recording, Station.slug)
        .join(Recording, Recording.id == Play.recording_id)
        .join(Station, Station.id == Play.station_id)
        .where(
            Play.station_id == station_id,
            Play.recording_id == recording_id,
            Play.start < end,
            Play.end > start,
        )
    )
    return [(p, r, slug) for p, r, slug in rows]
