"""Plays: a recording heard on a station from start to end, and the segments behind it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, BigId, UTCDateTime, utcnow


class Play(Base):
    __tablename__ = "plays"
    __table_args__ = (
        Index("ix_plays_station_start", "station_id", "start"),
        Index("ix_plays_recording_start", "recording_id", "start"),
        Index("ix_plays_start", "start"),
        # the open plays by station, which the worker reads to close them (migration 0004)
        Index(
            "ix_plays_open",
            "station_id",
            "start",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    duration: Mapped[float] = mapped_column(Float, doc="played seconds")
    offset_start: Mapped[float] = mapped_column(Float, doc="seconds into the recording")
    offset_end: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    matched_fraction: Mapped[float] = mapped_column(Float)
    rate_ppm: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open", doc="open or final")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PlaySegment(Base):
    """Audit trail: which segment supported which play, where, and how well."""

    __tablename__ = "play_segments"

    play_id: Mapped[int] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True)
    offset: Mapped[float] = mapped_column(Float, doc="seconds into the recording")
    score: Mapped[float] = mapped_column(Float, doc="1 - bit error rate")
    rate_ppm: Mapped[int] = mapped_column(Integer, default=0)
