"""What the matcher found for a segment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, UTCDateTime


class SegmentMatch(Base):
    """What the matcher found for a segment (absent: not matched yet, or nothing)."""

    __tablename__ = "segment_matches"

    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    offset_s: Mapped[float] = mapped_column(
        Float, doc="recording seconds at the matched variant's first value"
    )
    value_start: Mapped[datetime] = mapped_column(UTCDateTime(), doc="broadcast time of that first value")
    rate_ppm: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
