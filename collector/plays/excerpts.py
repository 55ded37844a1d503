"""A play's proof-of-play excerpt: its first minute as aired, asked of the agent that captures
the station (:mod:`collector.ingest.excerpts`), then served as Ogg/Opus to analysts.

An analyst asks (``POST /api/v1/plays/{id}/excerpt``); the request travels in the agent's next
upload or heartbeat acknowledgement; the agent answers with the audio while it still holds it
(48 h by default), or with why it cannot (expired, not captured, disabled). The request is found
again by the play's station and span, not by the play's id, since an open play is rebuilt under
a new id as its audio arrives. Asking again while a request is pending or answered changes
nothing; after a "gone" answer it asks once more (another agent may hold the audio now).

States, as the evidence endpoint and the web application show them:
``none`` (never asked), ``requested`` (waiting for the agent), ``available`` (the audio is
here), ``unavailable`` (``reason``: the agent said why not, or the play is older than any
agent keeps, or the agent never answered while it held the audio). Services never commit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.errors import NotFound
from collector.fleet.models import Station
from collector.formats import iso_z
from collector.ingest.excerpts import ExcerptRequest, aged, request_excerpt
from collector.plays.models import Play
from shared.schemas import MAX_EXCERPT_SECONDS

__all__ = ["PURPOSE", "ask", "audio", "info"]

PURPOSE = "plays:proof"
_STATES = {"pending": "requested", "stored": "available", "gone": "unavailable"}
_REASONS = {
    "expired": "the agent no longer holds audio this old (it keeps 48 h by default)",
    "not_captured": "the agent was not capturing the station at that time",
    "disabled": "the agent keeps no excerpts (buffer.excerpt_hours = 0)",
}


def _latest(session: Session, play: Play) -> ExcerptRequest | None:
    """The newest request for this play's span (it survives the play's rebuilds)."""
    return session.scalars(
        select(ExcerptRequest)
        .where(
            ExcerptRequest.station_id == play.station_id,
            ExcerptRequest.purpose == PURPOSE,
            ExcerptRequest.start >= play.start - timedelta(seconds=5),
            ExcerptRequest.start < play.end,
        )
        .order_by(ExcerptRequest.id.desc())
        .limit(1)
    ).first()


TOO_OLD = "the play is older than the audio agents keep (48 h by default): no agent can send it any more"


def _json(req: ExcerptRequest | None, play: Play) -> dict[str, Any]:
    if req is None:
        if aged(play.end):
            return {"state": "unavailable", "requested_at": None, "reason": TOO_OLD}
        return {"state": "none", "requested_at": None, "reason": None}
    reason: str | None = None
    if req.state == "pending" and aged(req.end):
        reason = "the agent did not answer while it held the audio (was it offline?)"
        return {"state": "unavailable", "requested_at": iso_z(req.requested_at), "reason": reason}
    if req.state == "gone":
        reason = _REASONS.get(req.gone or "", req.gone or "gone")
        if req.kept_from and req.kept_to:
            reason += f"; it holds {iso_z(req.kept_from)} to {iso_z(req.kept_to)}"
    return {"state": _STATES[req.state], "requested_at": iso_z(req.requested_at), "reason": reason}


def info(session: Session, play: Play) -> dict[str, Any]:
    """The play's excerpt state, as the evidence shows it."""
    return _json(_latest(session, play), play)


def ask(session: Session, play: Play) -> tuple[dict[str, Any], bool]:
    """Ask the station's agent for the play's first minute (at most ``MAX_EXCERPT_SECONDS``):
    the excerpt's state, and whether a request was made now."""
    req = _latest(session, play)
    if (req is not None and req.state != "gone") or aged(play.end):
        return _json(req, play), False
    station = session.get(Station, play.station_id)
    assert station is not None
    end = min(play.end, play.start + timedelta(seconds=MAX_EXCERPT_SECONDS))
    req = request_excerpt(session, station, play.start, end, PURPOSE)
    return _json(req, play), True


def audio(session: Session, play: Play) -> bytes:
    """The excerpt's Ogg/Opus bytes; :class:`NotFound` saying what to do when there are none."""
    req = _latest(session, play)
    if req is not None and req.state == "stored" and req.audio is not None:
        return req.audio
    state = _json(req, play)
    if state["state"] == "unavailable":
        raise NotFound(f"no audio for play {play.id}: {state['reason']}")
    if req is None:
        raise NotFound(f"no excerpt of play {play.id}: ask for it with POST /api/v1/plays/{play.id}/excerpt")
    raise NotFound(
        f"the excerpt of play {play.id} was asked for at {iso_z(req.requested_at)}; it arrives with "
        "the agent's next upload or heartbeat (a minute or so when the agent is online)"
    )
