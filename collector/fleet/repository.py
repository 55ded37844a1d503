"""Queries on stations, agents, users, tokens and station states. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from collector.fleet.models import Agent, Station, StationStatus, Token, User


def station(session: Session, slug: str) -> Station | None:
    return session.scalar(select(Station).where(Station.slug == slug))


def stations(session: Session, ids: Sequence[int] | None = None) -> list[Station]:
    """Stations by slug (all of them, or those with the given ids)."""
    stmt = select(Station).order_by(Station.slug)
    if ids is not None:
        stmt = stmt.where(Station.id.in_(list(ids)))
    return list(session.scalars(stmt))


def station_ids(session: Session, slugs: Sequence[str]) -> dict[str, int]:
    """The ids of the stations that exist among ``slugs``."""
    rows = session.execute(select(Station.slug, Station.id).where(Station.slug.in_(list(slugs))))
    return {slug: sid for slug, sid in rows}


def agent(session: Session, name: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.name == name))


def agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).order_by(Agent.name)))


def user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def token(session: Session, token_hash: str) -> Token | None:
    return session.scalar(select(Token).where(Token.token_hash == token_hash))


def live_tokens(session: Session, *, agent_id: int | None = None, user_id: int | None = None) -> list[Token]:
    """The agent's or the user's tokens not revoked yet (enrollment codes included)."""
    owner = Token.agent_id == agent_id if agent_id is not None else Token.user_id == user_id
    return list(session.scalars(select(Token).where(owner, Token.revoked_at.is_(None))))


def count_admins(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0)


def active_token_counts(
    session: Session, kind: str, owner_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Bearer tokens of ``kind`` (agent or user) neither revoked nor expired, per owner id."""
    owner = Token.agent_id if kind == "agent" else Token.user_id
    stmt = (
        select(owner, func.count())
        .where(
            Token.kind == kind,
            Token.revoked_at.is_(None),
            or_(Token.expires_at.is_(None), Token.expires_at > datetime.now(UTC)),
        )
        .group_by(owner)
    )
    if owner_ids is not None:
        stmt = stmt.where(owner.in_(list(owner_ids)))
    return {oid: int(n) for oid, n in session.execute(stmt) if oid is not None}


def pending_enrollments(session: Session) -> dict[int, datetime]:
    """Per agent id, the latest expiry of an enrollment code not used, revoked nor expired."""
    stmt = (
        select(Token.agent_id, func.max(Token.expires_at))
        .where(
            Token.kind == "enrollment",
            Token.used_at.is_(None),
            Token.revoked_at.is_(None),
            Token.expires_at > datetime.now(UTC),
        )
        .group_by(Token.agent_id)
    )
    return {aid: at for aid, at in session.execute(stmt) if aid is not None and at is not None}


def station_status(session: Session, station_id: int) -> StationStatus | None:
    return session.get(StationStatus, station_id)


def stations_with_status(session: Session) -> list[tuple[Station, StationStatus | None]]:
    rows = session.execute(
        select(Station, StationStatus)
        .outerjoin(StationStatus, StationStatus.station_id == Station.id)
        .order_by(Station.slug)
    )
    return [(st, status) for st, status in rows]
