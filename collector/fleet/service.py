"""Fleet management: stations, agents, users and their bearer tokens.

Tokens are random, shown once, stored as SHA-256. Services never commit: the caller
(request handler, CLI command) owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.fleet.models import Agent, Station, Token, User

ROLES = ("admin", "analyst")
ENROLLMENT_TTL = timedelta(hours=24)


class FleetError(ValueError):
    """A fleet operation cannot be done; the message says why and what to do."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(kind: str) -> str:
    prefix = {"agent": "sda", "user": "sdu", "enrollment": "sde"}[kind]
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def _store_token(
    session: Session,
    kind: str,
    *,
    agent: Agent | None = None,
    user: User | None = None,
    ttl: timedelta | None = None,
) -> str:
    token = _new_token(kind)
    now = datetime.now(UTC)
    session.add(
        Token(
            kind=kind,
            token_hash=hash_token(token),
            prefix=token[:8],
            agent_id=agent.id if agent else None,
            user_id=user.id if user else None,
            created_at=now,
            expires_at=now + ttl if ttl else None,
        )
    )
    session.flush()
    return token


def get_station(session: Session, slug: str) -> Station | None:
    return session.scalar(select(Station).where(Station.slug == slug))


def create_station(session: Session, slug: str, name: str | None = None, **extra: str | None) -> Station:
    if get_station(session, slug) is not None:
        raise FleetError(f"station {slug!r} already exists")
    station = Station(slug=slug, name=name or slug, **extra)
    session.add(station)
    session.flush()
    return station


def get_or_create_station(session: Session, slug: str, name: str | None = None) -> Station:
    return get_station(session, slug) or create_station(session, slug, name)


def _stations(session: Session, station_slugs: list[str]) -> list[Station]:
    if not station_slugs:
        raise FleetError("name at least one station, e.g. --stations rfm-dakar,sud-fm")
    stations = []
    for slug in station_slugs:
        station = get_station(session, slug)
        if station is None:
            raise FleetError(
                f"station {slug!r} does not exist: create it with `sodav-collector stations add {slug}`"
            )
        stations.append(station)
    return stations


def create_agent(session: Session, name: str, station_slugs: list[str]) -> tuple[Agent, str]:
    """Create an agent bound to stations; return it with a one-time enrollment code."""
    if session.scalar(select(Agent).where(Agent.name == name)) is not None:
        raise FleetError(
            f"agent {name!r} already exists; use `sodav-collector agents enroll-code {name}` for a new code"
        )
    agent = Agent(name=name, stations=_stations(session, station_slugs))
    session.add(agent)
    session.flush()
    return agent, new_enrollment_code(session, agent)


def get_agent(session: Session, name: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        raise FleetError(f"agent {name!r} does not exist: see `sodav-collector agents list`")
    return agent


def set_agent_stations(session: Session, name: str, station_slugs: list[str]) -> Agent:
    """Replace the stations an agent may write; its token stays valid."""
    agent = get_agent(session, name)
    agent.stations = _stations(session, station_slugs)
    session.flush()
    return agent


def new_enrollment_code(session: Session, agent: Agent) -> str:
    return _store_token(session, "enrollment", agent=agent, ttl=ENROLLMENT_TTL)


def enroll(session: Session, code: str) -> tuple[Agent, str]:
    """Exchange a valid enrollment code for a new agent token (the code is spent)."""
    row = session.scalar(
        select(Token).where(Token.token_hash == hash_token(code), Token.kind == "enrollment")
    )
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None or row.used_at is not None:
        raise FleetError("enrollment code unknown or already used: ask for a new one")
    if row.expires_at is not None and row.expires_at < now:
        raise FleetError("enrollment code expired: ask for a new one")
    agent = session.get(Agent, row.agent_id)
    assert agent is not None
    row.used_at = now
    return agent, _store_token(session, "agent", agent=agent)


def create_user(session: Session, name: str, role: str) -> tuple[User, str]:
    if role not in ROLES:
        raise FleetError(f"role must be one of {', '.join(ROLES)}")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise FleetError(f"user {name!r} already exists")
    user = User(name=name, role=role)
    session.add(user)
    session.flush()
    return user, _store_token(session, "user", user=user)


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise FleetError(f"user {name!r} does not exist: see `sodav-collector users list`")
    return user


def new_user_token(session: Session, name: str, revoke_others: bool = False) -> str:
    """A new API token for an existing user (lost token, or rotation with ``revoke_others``)."""
    user = get_user(session, name)
    if revoke_others:
        _revoke(session, Token.user_id == user.id)
    return _store_token(session, "user", user=user)


def revoke_agent(session: Session, name: str) -> int:
    return _revoke(session, Token.agent_id == get_agent(session, name).id)


def revoke_user(session: Session, name: str) -> int:
    return _revoke(session, Token.user_id == get_user(session, name).id)


def _revoke(session: Session, condition: object) -> int:
    now = datetime.now(UTC)
    tokens = session.scalars(select(Token).where(condition, Token.revoked_at.is_(None))).all()  # type: ignore[arg-type]
    for token in tokens:
        token.revoked_at = now
    # pending enrollment codes are revoked too, but only bearer tokens are counted
    return sum(1 for token in tokens if token.kind != "enrollment")


@dataclass(frozen=True)
class Principal:
    kind: str  # agent or user
    agent: Agent | None = None
    user: User | None = None


def authenticate(session: Session, token: str) -> Principal | str | None:
    """Return the principal, None if unknown, or "revoked"/"expired"."""
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    if row is None or row.kind == "enrollment":
        return None
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at < datetime.now(UTC):
        return "expired"
    if row.kind == "agent":
        return Principal("agent", agent=session.get(Agent, row.agent_id))
    return Principal("user", user=session.get(User, row.user_id))
