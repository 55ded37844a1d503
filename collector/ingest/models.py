"""What agents upload: segments with their fingerprints, events, heartbeats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.db.base import Base, BigId, UTCDateTime, utcnow

# Below this level a segment is silence, not music (the agent's default silence threshold):
# unidentified music in the reports, unknown audio on a station's timeline, start from here.
SILENCE_DBFS = -50.0


class Segment(Base):
    """One stretch of one station's audio. ``status``: new → claimed → matched/unmatched, or
    quarantined (with its ``reason``) when the worker cannot process it."""

    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("agent_id", "station_id", "seq"),
        Index("ix_segments_station_start", "station_id", "start"),
        Index("ix_segments_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    seq: Mapped[int] = mapped_column(BigId)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    duration: Mapped[float] = mapped_column(Float)
    level_dbfs: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="new")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text, doc="why the worker quarantined it")

    fingerprints: Mapped[list[SegmentFingerprint]] = relationship(
        back_populates="segment", cascade="all, delete-orphan", lazy="selectin"
    )


# A segment's rows in other tables carry its start too: PostgreSQL partitions them by its month
# (collector/db/partitions.py). The key on (id, start) is the models' own (the relationship sets
# both columns); PostgreSQL has none (migration 0014 says why), SQLite its key on segment_id.
def segment_key() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["segment_id", "segment_start"], ["segments.id", "segments.start"], ondelete="CASCADE"
    )


class SegmentFingerprint(Base):
    """One playback-rate variant of a segment: a shared.codec blob."""

    __tablename__ = "segment_fingerprints"
    __table_args__ = (UniqueConstraint("segment_id", "rate_ppm"), segment_key())

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    segment_id: Mapped[int] = mapped_column(BigId)
    segment_start: Mapped[datetime] = mapped_column(UTCDateTime(), doc="its segment's start")
    rate_ppm: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    segment: Mapped[Segment] = relationship(back_populates="fingerprints")


class Event(Base):
    """Outage, silence or ICY title change; a later copy with ``end`` set closes it."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("agent_id", "station_id", "kind", "seq"),
        Index("ix_events_station_start", "station_id", "start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BigId)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Heartbeat(Base):
    __tablename__ = "heartbeats"
    __table_args__ = (
        Index("ix_heartbeats_agent_received", "agent_id", "received_at"),
        Index("ix_heartbeats_received_at", "received_at"),  # retention deletes by time
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
