"""The matching queue and the matches. Nothing here commits.

Several workers may run against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED`` so no
two take the same segment, and :func:`take_stations` lets one worker at a time work on a
station, in the order its segments came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from collector.db import locks
from collector.ingest.models import Segment
from collector.matching.models import SegmentMatch


def claim_segments(session: Session, limit: int) -> list[Segment]:
    """Claim new segments for matching; concurrent workers never get the same rows."""
    stmt = select(Segment).where(Segment.status == "new").order_by(Segment.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    segments = list(session.scalars(stmt))
    now = datetime.now(UTC)
    for seg in segments:
        seg.status = "claimed"
        seg.claimed_at = now
    session.flush()
    return segments


def take_stations(session: Session, first_ids: dict[int, int]) -> set[int]:
    """The stations (of ``first_ids``: station id → its first claimed segment) this worker may
    process now, each locked until the transaction ends. Not a station another worker holds
    (the lock is only tried: a cycle never waits for another, so workers cannot deadlock), nor
    one with an earlier segment still waiting, claimed by another worker (its claim is not
    committed, so it reads as new): its plays are assembled in the order the audio came in,
    as by one worker. The others go back to the queue for the next cycle."""
    ready = set()
    for station_id in sorted(first_ids):
        if not locks.lock(session, locks.STATION, station_id, wait=False):
            continue
        earlier = select(Segment.id).where(
            Segment.station_id == station_id, Segment.status == "new", Segment.id < first_ids[station_id]
        )
        if session.scalar(earlier.limit(1)) is None:
            ready.add(station_id)
    return ready


def unclaim(segments: Sequence[Segment]) -> None:
    """Hand claimed segments back to the queue, for the next cycle."""
    for seg in segments:
        seg.status = "new"
        seg.claimed_at = None


def quarantined(session: Session, limit: int) -> tuple[int, Sequence[Segment]]:
    """How many segments are quarantined, and the latest ``limit`` of them."""
    total = session.scalar(select(func.count()).select_from(Segment).where(Segment.status == "quarantined"))
    rows = session.scalars(
        select(Segment).where(Segment.status == "quarantined").order_by(Segment.id.desc()).limit(limit)
    ).all()
    return int(total or 0), rows


def requeue(session: Session, ids: Sequence[int] | None) -> int:
    """Put quarantined segments (those of ``ids``, or all) back in the queue; return how many."""
    stmt = (
        update(Segment)
        .where(Segment.status == "quarantined")
        .values(status="new", reason=None, claimed_at=None)
    )
    if ids is not None:
        stmt = stmt.where(Segment.id.in_(ids))
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def forget_matches(session: Session, segments: Sequence[Segment]) -> None:
    """Delete the matches of these segments (matched again): one statement per 500 of them
    (SQLite's older builds take at most 999 parameters), bounded by their starts so that
    PostgreSQL reads only their months' partitions."""
    for i in range(0, len(segments), 500):
        chunk = segments[i : i + 500]
        session.execute(
            delete(SegmentMatch).where(
                SegmentMatch.segment_id.in_([seg.id for seg in chunk]),
                SegmentMatch.segment_start.between(min(s.start for s in chunk), max(s.start for s in chunk)),
            )
        )


def recent_matches(session: Session, station_id: int, limit: int) -> Sequence[Any]:
    """The station's latest matches, newest first: rows of (rate_ppm, value_start, recording_id,
    offset_s)."""
    return session.execute(
        select(
            SegmentMatch.rate_ppm, SegmentMatch.value_start, SegmentMatch.recording_id, SegmentMatch.offset_s
        )
        .join(
            Segment, (Segment.id == SegmentMatch.segment_id) & (Segment.start == SegmentMatch.segment_start)
        )
        .where(Segment.station_id == station_id)
        .order_by(Segment.start.desc())
        .limit(limit)
    ).all()
