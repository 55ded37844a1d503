"""Queries behind the plays: what a rebuild reads and replaces. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.ingest.models import Segment, SegmentFingerprint
from collector.matching.models import SegmentMatch
from collector.plays.models import Play, PlaySegment


def earliest_open_play(session: Session, station_id: int) -> datetime | None:
    return session.scalar(
        select(func.min(Play.start)).where(Play.station_id == station_id, Play.status == "open")
    )


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
        .outerjoin(SegmentMatch, SegmentMatch.segment_id == Segment.id)
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
