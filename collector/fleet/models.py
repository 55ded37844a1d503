"""Stations and their latest state, agents, human users and their tokens, the admin audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.db.base import Base, BigId, UTCDateTime, utcnow

agent_stations = Table(
    "agent_stations",
    Base.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("station_id", ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
)


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    frequency: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # playback-rate learning (matching issue): the pinned variant and when it was learned
    rate_ppm: Mapped[int | None] = mapped_column(Integer)
    rate_learned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # who set rate_ppm: "learned" (the matching worker) or "admin" (pinned; the learner keeps off)
    rate_source: Mapped[str | None] = mapped_column(String(10))

    agents: Mapped[list[Agent]] = relationship(secondary=agent_stations, back_populates="stations")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[str | None] = mapped_column(String(64))

    stations: Mapped[list[Station]] = relationship(secondary=agent_stations, back_populates="agents")


class User(Base):
    """A person at the society: ``admin`` manages, ``analyst`` reads."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Token(Base):
    """A bearer secret, stored as its SHA-256. ``kind``: agent, user, enrollment, or ticket (a
    one-use, one-minute pass to open the live event stream, which cannot send a header)."""

    __tablename__ = "tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16), doc="first characters, to recognise a token")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StationStatus(Base):
    """Latest state of a station from its agent's heartbeats: online, silent, stream_down."""

    __tablename__ = "station_status"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)
    level_dbfs: Mapped[float | None] = mapped_column(Float)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class AuditEntry(Base):
    """One administrative action, whoever took it: through the API (``actor`` is the user's name)
    or the server's shell (``cli:<unix user>``). Written in the action's own transaction."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40), doc="e.g. user.create, agent.revoke, play.flag")
    target: Mapped[str] = mapped_column(String(200), doc="the name, slug or id acted on")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
