"""Fleet API v1: enrollment, and who a token belongs to (an agent's, a user's).

The administration of stations, agents and users is :mod:`collector.fleet.admin`; every
station's state, with its last play, is served by :mod:`collector.plays.endpoints`.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

import shared
from collector.db.request import get_session
from collector.errors import error_responses
from collector.fleet.auth import require_agent, require_role
from collector.fleet.models import Agent, User
from collector.fleet.service import enroll

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


class Me(BaseModel):
    name: str
    role: str
    timezone: str
    version: str


@router.get(
    "/users/me",
    response_model=Me,
    summary="Who this user token belongs to (sign-in)",
    responses=error_responses(403),
)
def users_me(request: Request, user: User = Depends(require_role("analyst"))) -> Me:
    return Me(
        name=user.name,
        role=user.role,
        timezone=request.app.state.settings.timezone,
        version=shared.__version__,
    )
