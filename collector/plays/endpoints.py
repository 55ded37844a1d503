"""Plays API for analysts (role ``analyst`` or ``admin``): every station's state with its latest
play, a station's day, the evidence behind a play, and the reviewer's false-positive flag.

The plays list itself (``GET /api/v1/plays``, with its exports) is the reports' (it shares their
filters and formats).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from collector.db.request import BigRowId, get_session
from collector.errors import InvalidRequest, error_responses
from collector.fleet import audit
from collector.fleet.auth import require_role
from collector.fleet.models import User
from collector.fleet.service import get_station
from collector.plays import evidence, excerpts, flags
from collector.plays.stations import statuses_with_last_play
from collector.plays.timeline import timeline
from collector.settings import CollectorSettings

log = logging.getLogger("collector.plays")
router = APIRouter(prefix="/api/v1", tags=["plays"], responses=error_responses(401, 403, 404, 422))
Analyst = Annotated[User, Depends(require_role("analyst"))]
DB = Annotated[Session, Depends(get_session)]


def _settings(request: Request) -> CollectorSettings:
    settings: CollectorSettings = request.app.state.settings
    return settings


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(_settings(request).timezone)


class LastPlayOut(BaseModel):
    id: int
    title: str
    artist: str
    start: str
    end: str
    status: str


class StationStatusOut(BaseModel):
    station: str
    name: str
    state: str = Field(description="online, silent, stream_down, agent_offline or never_seen")
    since: str | None
    detail: str | None
    level_dbfs: float | None
    last_heartbeat_at: str | None
    last_play: LastPlayOut | None = Field(description="the latest play not flagged false, open or final")


@router.get(
    "/stations/status",
    response_model=list[StationStatusOut],
    summary="Derived state of every station, with its latest play",
)
def stations_status(request: Request, _user: Analyst, session: DB) -> list[dict[str, Any]]:
    offline = timedelta(seconds=_settings(request).agent_offline_after_s)
    return statuses_with_last_play(session, offline)


@router.get(
    "/stations/{slug}/timeline",
    summary="One station's local day: plays, unknown audio, outages, silences, ICY titles",
)
def station_timeline(
    request: Request,
    slug: str,
    _user: Analyst,
    session: DB,
    date_: Annotated[date, Query(alias="date", description="the local day, YYYY-MM-DD")],
) -> dict[str, Any]:
    return timeline(session, get_station(session, slug), date_, _zone(request))


@router.get("/plays/{play_id}/evidence", summary="Why the matcher believes a play")
def play_evidence(request: Request, play_id: BigRowId, _user: Analyst, session: DB) -> dict[str, Any]:
    return evidence.evidence(session, play_id, _zone(request))


class FlagIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=flags.REASON_MAX, examples=["jingle using a sample of the song"]
    )


class FlagOut(BaseModel):
    reason: str
    by: str
    at: str


@router.put(
    "/plays/{play_id}/flag",
    response_model=FlagOut,
    summary="Flag a play as a false positive: left out of every report until cleared",
)
def flag_play(play_id: BigRowId, body: FlagIn, user: Analyst, session: DB) -> dict[str, str] | None:
    play = evidence.get_play(session, play_id)
    if not body.reason.strip():
        raise InvalidRequest("say why the play is wrong: the reason is empty")
    flag = flags.set_flag(session, play, body.reason, user.name)
    audit.record(session, user.name, "play.flag", f"play {play_id}", reason=flag.reason)
    session.commit()
    log.info("play flagged play=%d by=%s", play_id, user.name)
    return flags.flag_json(flag)


@router.delete(
    "/plays/{play_id}/flag", status_code=204, summary="Clear a play's flag: it counts in reports again"
)
def unflag_play(play_id: BigRowId, user: Analyst, session: DB) -> Response:
    play = evidence.get_play(session, play_id)
    if flags.clear_flag(session, play, user.name):
        audit.record(session, user.name, "play.unflag", f"play {play_id}")
    session.commit()
    return Response(status_code=204)


class ExcerptOut(BaseModel):
    state: Literal["none", "requested", "available", "unavailable"]
    requested_at: str | None = Field(description="when it was asked of the agent (UTC)")
    reason: str | None = Field(description="why the agent has no audio, when unavailable")


@router.post(
    "/plays/{play_id}/excerpt",
    status_code=202,
    response_model=ExcerptOut,
    summary="Ask the agent for a play's first minute as aired (proof of play)",
)
def request_excerpt(play_id: BigRowId, user: Analyst, session: DB) -> dict[str, Any]:
    play = evidence.get_play(session, play_id)
    out, asked = excerpts.ask(session, play)
    if asked:
        audit.record(session, user.name, "play.excerpt", f"play {play_id}")
        session.commit()
        log.info("excerpt asked play=%d by=%s", play_id, user.name)
    return out


@router.get(
    "/plays/{play_id}/excerpt",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}, "description": "Ogg/Opus audio"}},
    summary="A play's excerpt (Ogg/Opus), once the agent sent it",
)
def get_excerpt(play_id: BigRowId, _user: Analyst, session: DB) -> Response:
    play = evidence.get_play(session, play_id)
    return Response(
        excerpts.audio(session, play),
        media_type="audio/ogg",
        headers={"Content-Disposition": f'inline; filename="play-{play_id}.ogg"'},
    )
