"""The matching queue and the matches. Nothing here commits.

Several workers may run against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED`` so no
two take the same segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

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


def forget_match(session: Session, segment_id: int) -> None:
    session.execute(delete(SegmentMatch).where(SegmentMatch.segment_id == segment_id))


def recent_matches(session: Session, station_id: int, limit: int) -> Sequence[Any]:
    """The station's latest matches, newest first: rows of (rate_ppm, value_start, recording_id,
    offset_s)."""
    return session.execute(
        select(
            SegmentMatch.rate_ppm, SegmentMatch.value_start, SegmentMatch.recording_id, SegmentMatch.offset_s
        )
        .join(Segment, Segment.id == SegmentMatch.segment_id)
        .where(Segment.station_id == station_id)
        .order_by(Segment.start.desc())
        .limit(limit)
    ).all()
