"""What the paid recognition services cost: requests counted by day and outcome, and each
service's circuit breaker and rate slot, shared by every process through the database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, UTCDateTime

SERVICES = ("acoustid", "audd")


class RecognizerService(Base):
    """One row per service: its breaker (open until, why) and its next free request slot."""

    __tablename__ = "recognizer_services"

    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    breaker_open_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breaker_reason: Mapped[str | None] = mapped_column(Text)
    breaker_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_slot_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="earliest time the next request may leave (rate limit across processes)"
    )


class RecognizerRequests(Base):
    """Requests to ``service`` on a UTC ``day`` that ended in ``outcome``.

    Outcomes: named, not_found, retry, park, stop (the service answered or timed out after the
    request went out: billable), pending (sent, answer not recorded yet: billable) and
    unreachable (no connection: nothing was sent).
    """

    __tablename__ = "recognizer_requests"

    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
