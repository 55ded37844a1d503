"""Fleet management: stations, agents, users and their bearer tokens, and each station's state.

Tokens are random, shown once, stored as SHA-256. Services never commit: the caller
(request handler, CLI command) owns the transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from collector.errors import Conflict, InvalidRequest, NotFound
from collector.fleet import repository as repo
from collector.fleet.models import Agent, Station, StationStatus, Token, User
from shared.schemas import SLUG_PATTERN, ErrorCode, SourceState, SourceStatusV1

ROLES = ("admin", "analyst")
ENROLLMENT_TTL = timedelta(hours=24)
TICKET_TTL = timedelta(seconds=60)
RATE_LIMIT_PPM = 100_000  # a pinned playback rate lies within ±10 %


class FleetError(InvalidRequest):
    """A fleet operation cannot be done; the message says why and what to do."""


class EnrollmentError(FleetError):
    status = 401
    code = ErrorCode.INVALID_ENROLLMENT_CODE


class FleetNotFound(NotFound):
    """No such station, agent or user; the message says how to list them."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(kind: str) -> str:
    prefix = {"agent": "sda", "user": "sdu", "enrollment": "sde", "ticket": "sdt"}[kind]
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


def check_slug(slug: str) -> str:
    """A station slug in the documented format (the agents' wire schema allows no other)."""
    if re.fullmatch(SLUG_PATTERN, slug) is None:
        raise FleetError(
            f"station slug {slug!r} is not valid: use 1 to 64 lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter or a digit, e.g. rfm-dakar"
        )
    return slug


def create_station(session: Session, slug: str, name: str | None = None, **extra: str | None) -> Station:
    check_slug(slug)
    if repo.station(session, slug) is not None:
        raise Conflict(f"station {slug!r} already exists")
    station = Station(slug=slug, name=name or slug, **extra)
    session.add(station)
    session.flush()
    return station


def get_or_create_station(session: Session, slug: str, name: str | None = None) -> Station:
    return repo.station(session, slug) or create_station(session, slug, name)


def _stations(session: Session, station_slugs: list[str]) -> list[Station]:
    if not station_slugs:
        raise FleetError("name at least one station, e.g. --stations rfm-dakar,sud-fm")
    stations = []
    for slug in station_slugs:
        station = repo.station(session, slug)
        if station is None:
            raise FleetNotFound(
                f"station {slug!r} does not exist: create it with `sodav-collector stations add {slug}`"
            )
        stations.append(station)
    return stations


def create_agent(session: Session, name: str, station_slugs: list[str]) -> tuple[Agent, str]:
    """Create an agent bound to stations; return it with a one-time enrollment code."""
    if repo.agent(session, name) is not None:
        raise Conflict(
            f"agent {name!r} already exists; use `sodav-collector agents enroll-code {name}` for a new code"
        )
    agent = Agent(name=name, stations=_stations(session, station_slugs))
    session.add(agent)
    session.flush()
    return agent, new_enrollment_code(session, agent)


def get_agent(session: Session, name: str) -> Agent:
    agent = repo.agent(session, name)
    if agent is None:
        raise FleetNotFound(f"agent {name!r} does not exist: see `sodav-collector agents list`")
    return agent


def tokenless_agent(session: Session, name: str, station: Station) -> Agent:
    """The agent that writes ``station`` on the collector's own behalf (offline analysis): it has
    no token, so nothing can upload as it; created on first use, given the station if need be."""
    agent = repo.agent(session, name)
    if agent is None:
        agent = Agent(name=name, stations=[])
        session.add(agent)
    if station not in agent.stations:
        agent.stations.append(station)
    session.flush()
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
    row = repo.token(session, hash_token(code))
    now = datetime.now(UTC)
    if row is None or row.kind != "enrollment" or row.revoked_at is not None or row.used_at is not None:
        raise EnrollmentError("enrollment code unknown or already used: ask for a new one")
    if row.expires_at is not None and row.expires_at < now:
        raise EnrollmentError("enrollment code expired: ask for a new one")
    agent = session.get(Agent, row.agent_id)
    assert agent is not None
    row.used_at = now
    return agent, _store_token(session, "agent", agent=agent)


def create_user(session: Session, name: str, role: str) -> tuple[User, str]:
    _check_role(role)
    if name == "me":
        raise FleetError("`me` names the caller in /api/v1/users/me: choose another user name")
    if repo.user(session, name) is not None:
        raise Conflict(f"user {name!r} already exists")
    user = User(name=name, role=role)
    session.add(user)
    session.flush()
    return user, _store_token(session, "user", user=user)


def get_user(session: Session, name: str) -> User:
    user = repo.user(session, name)
    if user is None:
        raise FleetNotFound(f"user {name!r} does not exist: see `sodav-collector users list`")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise FleetError(f"role must be one of {', '.join(ROLES)}")


def set_role(session: Session, name: str, role: str) -> User:
    """Change a user's role; refused if it would leave the collector without an admin."""
    _check_role(role)
    user = get_user(session, name)
    if user.role == "admin" and role != "admin" and repo.count_admins(session) <= 1:
        raise Conflict(f"{name!r} is the last admin: make another user admin first")
    user.role = role
    session.flush()
    return user


def new_user_token(session: Session, name: str, revoke_others: bool = False) -> str:
    """A new API token for an existing user (lost token, or rotation with ``revoke_others``)."""
    user = get_user(session, name)
    if revoke_others:
        _revoke(repo.live_tokens(session, user_id=user.id))
    return _store_token(session, "user", user=user)


def revoke_agent(session: Session, name: str) -> int:
    return _revoke(repo.live_tokens(session, agent_id=get_agent(session, name).id))


def revoke_user(session: Session, name: str) -> int:
    return _revoke(repo.live_tokens(session, user_id=get_user(session, name).id))


def _revoke(tokens: list[Token]) -> int:
    now = datetime.now(UTC)
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
    row = repo.token(session, hash_token(token))
    if row is None or row.kind not in ("agent", "user"):
        return None
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at < datetime.now(UTC):
        return "expired"
    if row.kind == "agent":
        return Principal("agent", agent=session.get(Agent, row.agent_id))
    return Principal("user", user=session.get(User, row.user_id))


# ---- station state -------------------------------------------------------------------------------

_STATE_MAP = {
    SourceState.OK: "online",
    SourceState.STARTING: "online",
    SourceState.SILENT: "silent",
    SourceState.NO_SIGNAL: "silent",
    SourceState.DOWN: "stream_down",
}
# Below this a station's audio is digital silence (zeros, or dither under one bit: 16-bit
# audio cannot be quieter than about -90 dBFS with a signal in it). An agent that says
# ``ok`` at such a level (a stream whose source stopped but whose server still sends, a
# sound card with nothing plugged in) is listening to nothing: the station is ``silent``.
DIGITAL_SILENCE_DBFS = -90.0


def _state(src: SourceStatusV1, now: datetime) -> tuple[str, datetime, str | None]:
    """The station's state, since when, and why, from what its agent says of its source."""
    state = _STATE_MAP[src.state]
    if state == "online" and src.level_dbfs is not None and src.level_dbfs <= DIGITAL_SILENCE_DBFS:
        return "silent", now, f"digital silence ({src.level_dbfs:.1f} dBFS)"
    return state, min(src.since, now), src.detail


def agent_heard(
    session: Session,
    agent: Agent,
    version: str,
    sources: Iterable[SourceStatusV1],
    allowed: dict[str, int],
    now: datetime,
) -> None:
    """An agent's heartbeat: when it was last heard, its version, its stations' states."""
    agent.last_seen_at = now
    agent.version = version
    for src in sources:
        station_id = allowed[src.station]
        state, since, detail = _state(src, now)
        status = repo.station_status(session, station_id)
        if status is None:
            status = StationStatus(station_id=station_id, state=state, since=since)
            session.add(status)
        elif status.state != state or status.agent_id != agent.id:
            status.state = state
            status.since = since
        status.detail = detail
        status.level_dbfs = src.level_dbfs
        status.last_heartbeat_at = now
        status.agent_id = agent.id
    session.flush()


@dataclass(frozen=True)
class StationStatusView:
    station: str
    name: str
    state: str
    since: datetime | None
    detail: str | None
    level_dbfs: float | None
    last_heartbeat_at: datetime | None


def station_statuses(
    session: Session, offline_after: timedelta, now: datetime | None = None
) -> list[StationStatusView]:
    """Every station's state; a station whose agent went quiet is ``agent_offline``."""
    now = now or datetime.now(UTC)
    out = []
    for station, status in repo.stations_with_status(session):
        if status is None:
            out.append(
                StationStatusView(
                    station.slug, station.name, "never_seen", None, "no heartbeat yet", None, None
                )
            )
            continue
        state, since, detail = status.state, status.since, status.detail
        if status.last_heartbeat_at is None or now - status.last_heartbeat_at > offline_after:
            state = "agent_offline"
            since = (status.last_heartbeat_at or status.since) + offline_after
            detail = "no heartbeat from the agent"
        out.append(
            StationStatusView(
                station.slug, station.name, state, since, detail, status.level_dbfs, status.last_heartbeat_at
            )
        )
    return out


def pin_rate(station: Station, rate_ppm: int, now: datetime | None = None) -> None:
    """Pin the playback rate learned for a station (what its agents fingerprint from now on);
    a rate an admin pinned stays until the admin clears it."""
    if station.rate_source == "admin":
        return
    if rate_ppm != station.rate_ppm:
        station.rate_ppm = rate_ppm
        station.rate_learned_at = now or datetime.now(UTC)
        station.rate_source = "learned"


def set_rate(session: Session, slug: str, rate_ppm: int | None) -> Station:
    """An admin pins the station's rate (the learner then leaves it alone), or clears it
    (``None``: full sweep until the rate is learned again)."""
    station = get_station(session, slug)
    if rate_ppm is not None and (abs(rate_ppm) > RATE_LIMIT_PPM or rate_ppm % 1000):
        raise FleetError(f"rate_ppm must be a multiple of 1000 within ±{RATE_LIMIT_PPM}")
    station.rate_ppm = rate_ppm
    station.rate_source = "admin" if rate_ppm is not None else None
    station.rate_learned_at = datetime.now(UTC) if rate_ppm is not None else None
    session.flush()
    return station


def get_station(session: Session, slug: str) -> Station:
    station = repo.station(session, slug)
    if station is None:
        raise FleetNotFound(f"station {slug!r} does not exist: see `sodav-collector stations list`")
    return station


# ---- tickets for the live event stream -----------------------------------------------------------


def new_ticket(session: Session, user: User) -> tuple[str, datetime]:
    """A one-use ticket (``sdt_…``) that opens the event stream for ``user`` within a minute."""
    ticket = _store_token(session, "ticket", user=user, ttl=TICKET_TTL)
    return ticket, datetime.now(UTC) + TICKET_TTL


def spend_ticket(session: Session, ticket: str) -> User | str | None:
    """The user a valid ticket names (the ticket is spent); None if unknown, used or expired;
    "revoked" if the user has no live token any more."""
    row = repo.token(session, hash_token(ticket))
    now = datetime.now(UTC)
    if row is None or row.kind != "ticket" or row.used_at is not None:
        return None
    if row.expires_at is not None and row.expires_at < now:
        return None
    row.used_at = now
    user = session.get(User, row.user_id)
    if user is None or not user_is_active(session, user):
        return "revoked"
    return user


def user_is_active(session: Session, user: User) -> bool:
    """The user still holds a bearer token neither revoked nor expired."""
    return repo.active_token_counts(session, "user", [user.id]).get(user.id, 0) > 0
