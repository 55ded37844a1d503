"""What the matcher found for a segment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, BigId, UTCDateTime
from collector.ingest.models import segment_key


class SegmentMatch(Base):
    """What the matcher found for a segment (absent: not matched yet, or nothing)."""

    __tablename__ = "segment_matches"
    __table_args__ = (segment_key(),)

    segment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    segment_start: Mapped[datetime] = mapped_column(UTCDateTime(), doc="its segment's start")
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    offset_s: Mapped[float] = mapped_column(
        Float, doc="recording seconds at the matched variant's first value"
    )
    value_start: Mapped[datetime] = mapped_column(UTCDateTime(), doc="broadcast time of that first value")
    rate_ppm: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
