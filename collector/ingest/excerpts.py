"""Excerpts the collector asks agents for, and what they answered: the audio, or why it is gone.

A request names a station and a span (at most ``MAX_EXCERPT_SECONDS``); it is *pending* until
the agent that captures the station answers ``POST /api/v1/excerpts``
(:mod:`collector.ingest.endpoints`): then *stored* with its Ogg/Opus audio and the span it
covers, or *gone* with the agent's reason (expired, not captured, disabled) and what it keeps.
:func:`pending_for` is what the acknowledgements carry to an agent (the upload and heartbeat
endpoints send it in ``excerpts``). Services never commit; the endpoint does.

This module holds the table with its queries and rules, apart from ``models.py``, so that the
domain's existing modules stay as they are while the protocol lands.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from collector.db.base import Base, UTCDateTime, utcnow
from collector.errors import InvalidRequest, NotFound
from collector.fleet.models import Agent, Station
from collector.ingest.service import ForbiddenStation, station_ids
from shared.schemas import MAX_EXCERPT_SECONDS, ExcerptRequestV1, ExcerptV1

__all__ = ["ExcerptRequest", "aged", "answer", "pending_for", "request_excerpt"]

# past this, an agent has deleted the audio (48 h by default) and answers "expired" anyway
ASK_FOR = timedelta(hours=72)


class ExcerptRequest(Base):
    __tablename__ = "excerpt_requests"
    __table_args__ = (Index("ix_excerpt_requests_state_station", "state", "station_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(100), doc="who asked, e.g. recognizers:cluster:12")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, stored or gone")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, doc="Ogg/Opus, as the agent cut it")
    audio_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    audio_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gone: Mapped[str | None] = mapped_column(String(16), doc="expired, not_captured or disabled")
    kept_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kept_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(Text)

    @property
    def wire_id(self) -> str:
        return f"x{self.id}"


def request_excerpt(
    session: Session, station: Station, start: datetime, end: datetime, purpose: str
) -> ExcerptRequest:
    """Ask for ``station``'s audio from ``start`` to ``end``; the agents hear of it in their next ack."""
    if not 0 < (end - start).total_seconds() <= MAX_EXCERPT_SECONDS:
        raise InvalidRequest(f"an excerpt ends after its start and lasts at most {MAX_EXCERPT_SECONDS:g} s")
    req = ExcerptRequest(station_id=station.id, start=start, end=end, purpose=purpose)
    session.add(req)
    session.flush()
    return req


def aged(end: datetime, now: datetime | None = None) -> bool:
    """Whether audio ending at ``end`` is past what agents are still asked for (``ASK_FOR``)."""
    return end < (now or datetime.now(UTC)) - ASK_FOR


def pending_for(session: Session, agent: Agent, now: datetime | None = None) -> list[ExcerptRequestV1]:
    """The pending requests for the agent's stations, oldest first, as its ack carries them."""
    slugs = {s.id: s.slug for s in agent.stations}
    if not slugs:
        return []
    since = (now or datetime.now(UTC)) - ASK_FOR
    rows: Sequence[ExcerptRequest] = session.scalars(
        select(ExcerptRequest)
        .where(
            ExcerptRequest.state == "pending",
            ExcerptRequest.station_id.in_(slugs),
            ExcerptRequest.end >= since,
        )
        .order_by(ExcerptRequest.id)
        .limit(50)
    ).all()
    return [
        ExcerptRequestV1(id=r.wire_id, station=slugs[r.station_id], start=r.start, end=r.end) for r in rows
    ]


def _request(session: Session, wire_id: str) -> ExcerptRequest | None:
    if not (wire_id.startswith("x") and wire_id[1:].isdigit()):
        return None
    return session.get(ExcerptRequest, int(wire_id[1:]))


def answer(session: Session, agent: Agent, body: ExcerptV1) -> bool:
    """Store an agent's answer; True if it was the one awaited, False if already answered."""
    if body.agent != agent.name:
        raise ForbiddenStation(f"this token belongs to agent {agent.name!r}, not {body.agent!r}")
    req = _request(session, body.request)
    if req is None:
        raise NotFound(f"no excerpt request {body.request!r}: drop it")
    if station_ids(agent).get(body.station) != req.station_id:
        raise ForbiddenStation(
            f"excerpt request {body.request!r} is not for a station of agent {agent.name!r}"
        )
    if req.state != "pending":
        return False
    req.agent_id, req.answered_at = agent.id, datetime.now(UTC)
    req.kept_from, req.kept_to = body.kept_from, body.kept_to
    if body.gone is not None:
        req.state, req.gone = "gone", body.gone.value
        return True
    assert body.audio is not None
    req.state, req.audio = "stored", base64.b64decode(body.audio)
    req.audio_start, req.audio_end = body.start, body.end
    return True
