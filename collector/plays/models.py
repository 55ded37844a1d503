"""Plays: a recording heard on a station from start to end, the segments behind it, and the
reviewers' false-positive flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, BigId, UTCDateTime, utcnow


class Play(Base):
    __tablename__ = "plays"
    __table_args__ = (
        Index("ix_plays_station_start", "station_id", "start"),
        Index("ix_plays_recording_start", "recording_id", "start"),
        Index("ix_plays_start", "start"),
        Index("ix_plays_updated_at", "updated_at"),  # the live feed reads what changed since
        # the open plays by station, which the worker reads to close them (migration 0007)
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
    alternate_recording_id: Mapped[int | None] = mapped_column(
        Integer, doc="a near-duplicate version (remaster, edit) the play also matched, less well"
    )
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


class PlayFlag(Base):
    """A reviewer's mark: this play is a false positive. Flagged plays are left out of every
    distribution report until the flag is cleared; a cleared flag stays, as history.

    Open plays are rebuilt under new ids while segments arrive, so a flag names its play by
    what the play is (station, recording) and the span it had when flagged: a play of the same
    station and recording that overlaps the span is flagged, whatever its id (``play_id`` is
    the id it had, for the record)."""

    __tablename__ = "play_flags"
    __table_args__ = (Index("ix_play_flags_station_recording", "station_id", "recording_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    play_id: Mapped[int] = mapped_column(BigId, doc="the play's id when flagged (not a key: it may go)")
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    flagged_by: Mapped[str] = mapped_column(String(100), doc="the user's name")
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cleared_by: Mapped[str | None] = mapped_column(String(100))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
