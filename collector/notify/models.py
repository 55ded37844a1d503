"""Webhook and report subscriptions, the outbox of deliveries, the station states announced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, BigId, UTCDateTime, utcnow


class Webhook(Base):
    """A receiver of events (``play.final``, ``station.state``): a URL and the secret that signs."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200), doc="comma-separated event types")
    stations: Mapped[str | None] = mapped_column(Text, doc="comma-separated slugs; none: every station")
    description: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100), doc="HMAC-SHA256 key, shown once at creation")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportSubscription(Base):
    """An address that receives a scheduled report file by e-mail when it is generated."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (UniqueConstraint("email", "report", "scope", "fmt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    report: Mapped[str] = mapped_column(String(20), doc="airtime, activity or playlist")
    scope: Mapped[str] = mapped_column(String(64), doc="station slug, or all")
    fmt: Mapped[str] = mapped_column(String(8), doc="xlsx or pdf")
    lang: Mapped[str] = mapped_column(String(2), default="fr", doc="language of the message")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Base):
    """The outbox: one event for one receiver, written in the transaction that made the event.

    ``status``: ``pending`` (until acknowledged, retried with backoff) → ``delivered``, or
    ``failed`` after the last attempt (``replay`` makes it ``pending`` again).
    """

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        Index("ix_notify_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_notify_deliveries_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), doc="webhook or email")
    event: Mapped[str] = mapped_column(String(40), doc="play.final, station.state, ping, report.file")
    event_id: Mapped[str] = mapped_column(String(36), doc="the same for every receiver and every attempt")
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_subscriptions.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer, doc="HTTP status or SMTP reply code")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StationNotice(Base):
    """The last state of each station that was announced (``station.state`` events)."""

    __tablename__ = "notify_station_states"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
