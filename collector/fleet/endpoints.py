"""Fleet API v1: enrollment, the agent's own view, and every station's state."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from collector.db.request import get_session
from collector.errors import error_responses
from collector.fleet.auth import require_agent, require_role
from collector.fleet.models import Agent, User
from collector.fleet.service import enroll, station_statuses

log = logging.getLogger("collector.fleet")
router = APIRouter(prefix="/api/v1", tags=["fleet"], responses=error_responses(401, 422))


class EnrollRequest(BaseModel):
    code: str = Field(max_length=200)


class EnrollResponse(BaseModel):
    agent: str
    token: str
    stations: list[str]


@router.post(
    "/enroll", response_model=EnrollResponse, summary="Exchange an enrollment code for an agent token"
)
def enroll_agent(body: EnrollRequest, session: Session = Depends(get_session)) -> EnrollResponse:
    agent, token = enroll(session, body.code)
    stations = sorted(s.slug for s in agent.stations)
    session.commit()
    log.info("agent enrolled agent=%s stations=%s", agent.name, ",".join(stations))
    return EnrollResponse(agent=agent.name, token=token, stations=stations)


class AgentMe(BaseModel):
    agent: str
    stations: list[str]


@router.get(
    "/agents/me",
    response_model=AgentMe,
    summary="Who this agent token belongs to",
    responses=error_responses(403),
)
def agents_me(agent: Agent = Depends(require_agent)) -> AgentMe:
    return AgentMe(agent=agent.name, stations=sorted(s.slug for s in agent.stations))


class StationStatusOut(BaseModel):
    station: str
    name: str
    state: str
    since: str | None
    detail: str | None
    level_dbfs: float | None
    last_heartbeat_at: str | None


@router.get(
    "/stations/status",
    response_model=list[StationStatusOut],
    summary="Derived state of every station",
    responses=error_responses(403),
)
def stations_status(
    request: Request, _user: User = Depends(require_role("analyst")), session: Session = Depends(get_session)
) -> list[StationStatusOut]:
    offline = timedelta(seconds=request.app.state.settings.agent_offline_after_s)
    return [
        StationStatusOut(
            station=v.station,
            name=v.name,
            state=v.state,
            since=v.since.isoformat() if v.since else None,
            detail=v.detail,
            level_dbfs=v.level_dbfs,
            last_heartbeat_at=v.last_heartbeat_at.isoformat() if v.last_heartbeat_at else None,
        )
        for v in station_statuses(session, offline)
    ]
