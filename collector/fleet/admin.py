"""Fleet administration over HTTP (role ``admin``): stations, agents and their enrollment codes,
users and their tokens. The same operations as ``sodav-collector stations|agents|users``, with
the same checks (the service's), and each recorded in the audit log as the CLI records it.

Secrets (enrollment codes, tokens) appear once, in the answer that creates them; only their
hashes are stored, and neither the log nor the audit log sees them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from collector.db.request import get_session
from collector.errors import Conflict, error_responses
from collector.fleet import audit, repository, service
from collector.fleet.auth import require_role
from collector.fleet.models import Agent, Station, User
from collector.fleet.variants import variants_for
from collector.formats import iso_z
from shared.schemas import StationSlug

log = logging.getLogger("collector.fleet")
router = APIRouter(
    prefix="/api/v1", tags=["fleet administration"], responses=error_responses(401, 403, 404, 409, 422)
)
Admin = Annotated[User, Depends(require_role("admin"))]
DB = Annotated[Session, Depends(get_session)]
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def _z(at: datetime | None) -> str | None:
    return iso_z(at) if at is not None else None


# ---- stations ------------------------------------------------------------------------------------


class StationOut(BaseModel):
    slug: str
    name: str
    city: str | None
    frequency: str | None
    created_at: str
    agents: list[str]
    rate_ppm: int | None
    rate_source: str | None = Field(description="null (unknown: full sweep), learned, or admin (pinned)")
    rate_learned_at: str | None
    variants_ppm: list[int] = Field(description="what the next directive asks the agents to fingerprint")


def station_out(st: Station) -> StationOut:
    return StationOut(
        slug=st.slug,
        name=st.name,
        city=st.city,
        frequency=st.frequency,
        created_at=iso_z(st.created_at),
        agents=sorted(a.name for a in st.agents),
        rate_ppm=st.rate_ppm,
        rate_source=st.rate_source or ("learned" if st.rate_ppm is not None else None),
        rate_learned_at=_z(st.rate_learned_at),
        variants_ppm=variants_for(st),
    )


class StationsOut(BaseModel):
    items: list[StationOut]


class StationIn(BaseModel):
    slug: StationSlug = Field(examples=["zik-fm"])
    name: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    frequency: str | None = Field(default=None, max_length=50)


class RateIn(BaseModel):
    rate_ppm: int | None = Field(
        ge=-service.RATE_LIMIT_PPM,
        le=service.RATE_LIMIT_PPM,
        multiple_of=1000,
        description="the playback rate to pin, in ppm (20000 = 2 % fast); null to learn it again",
    )


@router.get("/stations", response_model=StationsOut, summary="Stations with their agents and rate")
def list_stations(_admin: Admin, session: DB) -> StationsOut:
    return StationsOut(items=[station_out(st) for st in repository.stations(session)])


@router.post("/stations", response_model=StationOut, status_code=201, summary="Create a station")
def create_station(body: StationIn, admin: Admin, session: DB) -> StationOut:
    st = service.create_station(session, body.slug, body.name, city=body.city, frequency=body.frequency)
    audit.record(session, admin.name, "station.create", st.slug, name=st.name)
    session.commit()
    return station_out(st)


@router.put(
    "/stations/{slug}/rate", response_model=StationOut, summary="Pin a station's playback rate, or clear it"
)
def set_station_rate(slug: str, body: RateIn, admin: Admin, session: DB) -> StationOut:
    st = service.set_rate(session, slug, body.rate_ppm)
    audit.record(session, admin.name, "station.rate", slug, rate_ppm=body.rate_ppm)
    session.commit()
    return station_out(st)


# ---- agents --------------------------------------------------------------------------------------


class AgentOut(BaseModel):
    name: str
    stations: list[str]
    created_at: str
    last_seen_at: str | None
    version: str | None
    active_tokens: int
    enrollment_expires_at: str | None


class AgentsOut(BaseModel):
    items: list[AgentOut]


def _agent_out(session: Session, agent: Agent) -> AgentOut:
    tokens = repository.active_token_counts(session, "agent", [agent.id])
    pending = repository.pending_enrollments(session)
    return _agent_row(agent, tokens, pending)


def _agent_row(agent: Agent, tokens: dict[int, int], pending: dict[int, datetime]) -> AgentOut:
    return AgentOut(
        name=agent.name,
        stations=sorted(s.slug for s in agent.stations),
        created_at=iso_z(agent.created_at),
        last_seen_at=_z(agent.last_seen_at),
        version=agent.version,
        active_tokens=tokens.get(agent.id, 0),
        enrollment_expires_at=_z(pending.get(agent.id)),
    )


class AgentIn(BaseModel):
    name: str = Field(pattern=NAME, examples=["thies-01"])
    stations: list[str] = Field(min_length=1, examples=[["rfm-thies"]])


class EnrollmentCodeOut(BaseModel):
    enrollment_code: str
    expires_at: str


class NewAgentOut(EnrollmentCodeOut):
    agent: AgentOut


class RevokedOut(BaseModel):
    revoked: int = Field(description="bearer tokens revoked (pending enrollment codes are revoked too)")


@router.get("/agents", response_model=AgentsOut, summary="Agents, their stations and tokens")
def list_agents(_admin: Admin, session: DB) -> AgentsOut:
    tokens = repository.active_token_counts(session, "agent")
    pending = repository.pending_enrollments(session)
    return AgentsOut(items=[_agent_row(a, tokens, pending) for a in repository.agents(session)])


def _code_out(code: str) -> EnrollmentCodeOut:
    return EnrollmentCodeOut(
        enrollment_code=code, expires_at=iso_z(datetime.now(UTC) + service.ENROLLMENT_TTL)
    )


@router.post(
    "/agents",
    response_model=NewAgentOut,
    status_code=201,
    summary="Create an agent; its one-time enrollment code is in this answer only",
)
def create_agent(body: AgentIn, admin: Admin, session: DB) -> NewAgentOut:
    agent, code = service.create_agent(session, body.name, body.stations)
    audit.record(session, admin.name, "agent.create", agent.name, stations=sorted(body.stations))
    session.commit()
    log.info("agent created agent=%s by=%s", agent.name, admin.name)
    out = _code_out(code)
    return NewAgentOut(agent=_agent_out(session, agent), **out.model_dump())


@router.post(
    "/agents/{name}/enrollment-codes",
    response_model=EnrollmentCodeOut,
    status_code=201,
    summary="A new enrollment code for an agent (to enroll a replaced box)",
)
def new_enrollment_code(name: str, admin: Admin, session: DB) -> EnrollmentCodeOut:
    code = service.new_enrollment_code(session, service.get_agent(session, name))
    audit.record(session, admin.name, "agent.enroll_code", name)
    session.commit()
    return _code_out(code)


@router.delete("/agents/{name}/tokens", response_model=RevokedOut, summary="Revoke every token of an agent")
def revoke_agent(name: str, admin: Admin, session: DB) -> RevokedOut:
    n = service.revoke_agent(session, name)
    audit.record(session, admin.name, "agent.revoke", name, revoked=n)
    session.commit()
    log.info("agent tokens revoked agent=%s by=%s count=%d", name, admin.name, n)
    return RevokedOut(revoked=n)


# ---- users ---------------------------------------------------------------------------------------


class UserOut(BaseModel):
    name: str
    role: str
    created_at: str
    active_tokens: int


class UsersOut(BaseModel):
    items: list[UserOut]


def _user_row(user: User, tokens: dict[int, int]) -> UserOut:
    return UserOut(
        name=user.name,
        role=user.role,
        created_at=iso_z(user.created_at),
        active_tokens=tokens.get(user.id, 0),
    )


def _user_out(session: Session, user: User) -> UserOut:
    return _user_row(user, repository.active_token_counts(session, "user", [user.id]))


class UserIn(BaseModel):
    name: str = Field(pattern=NAME, examples=["awa"])
    role: str = Field(pattern="^(admin|analyst)$")


class RoleIn(BaseModel):
    role: str = Field(pattern="^(admin|analyst)$")


class TokenIn(BaseModel):
    revoke_others: bool = False


class TokenOut(BaseModel):
    token: str


class NewUserOut(TokenOut):
    user: UserOut


@router.get("/users", response_model=UsersOut, summary="Users and their roles")
def list_users(_admin: Admin, session: DB) -> UsersOut:
    tokens = repository.active_token_counts(session, "user")
    return UsersOut(items=[_user_row(u, tokens) for u in repository.users(session)])


@router.post(
    "/users",
    response_model=NewUserOut,
    status_code=201,
    summary="Create a user; their API token is in this answer only",
)
def create_user(body: UserIn, admin: Admin, session: DB) -> NewUserOut:
    user, token = service.create_user(session, body.name, body.role)
    audit.record(session, admin.name, "user.create", user.name, role=user.role)
    session.commit()
    return NewUserOut(user=_user_out(session, user), token=token)


@router.patch("/users/{name}", response_model=UserOut, summary="Change a user's role")
def set_role(name: str, body: RoleIn, admin: Admin, session: DB) -> UserOut:
    user = service.set_role(session, name, body.role)
    audit.record(session, admin.name, "user.role", name, role=body.role)
    session.commit()
    return _user_out(session, user)


@router.post(
    "/users/{name}/tokens", response_model=TokenOut, status_code=201, summary="A new API token for a user"
)
def new_user_token(name: str, body: TokenIn, admin: Admin, session: DB) -> TokenOut:
    if body.revoke_others and name == admin.name:
        raise Conflict("revoking your own tokens would sign you out: ask another admin")
    token = service.new_user_token(session, name, revoke_others=body.revoke_others)
    audit.record(session, admin.name, "user.token", name, revoke_others=body.revoke_others)
    session.commit()
    return TokenOut(token=token)


@router.delete("/users/{name}/tokens", response_model=RevokedOut, summary="Revoke every token of a user")
def revoke_user(name: str, admin: Admin, session: DB) -> RevokedOut:
    if name == admin.name:
        raise Conflict("these are your own tokens: sign out instead, or ask another admin")
    n = service.revoke_user(session, name)
    audit.record(session, admin.name, "user.revoke", name, revoked=n)
    session.commit()
    log.info("user tokens revoked user=%s by=%s count=%d", name, admin.name, n)
    return RevokedOut(revoked=n)
