"""Queries on subscriptions, the delivery outbox and the announced station states. Nothing here
commits.

Several worker processes may deliver at once: a claim leases its rows (``locked_until``) and,
on PostgreSQL, skips rows another claim holds (``FOR UPDATE SKIP LOCKED``), so no delivery is
sent twice at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from collector.notify.models import Delivery, ReportSubscription, StationNotice, Webhook


def webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def active_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)))


def report_subscriptions(session: Session, user_id: int | None = None) -> list[ReportSubscription]:
    stmt = select(ReportSubscription).order_by(ReportSubscription.id)
    if user_id is not None:
        stmt = stmt.where(ReportSubscription.user_id == user_id)
    return list(session.scalars(stmt))


def subscribers(session: Session, report: str, scope: str, fmt: str) -> list[ReportSubscription]:
    return list(
        session.scalars(
            select(ReportSubscription)
            .where(
                ReportSubscription.report == report,
                ReportSubscription.scope == scope,
                ReportSubscription.fmt == fmt,
            )
            .order_by(ReportSubscription.id)
        )
    )


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
    """Lease up to ``limit`` pending deliveries whose time has come, oldest first."""
    stmt = (
        select(Delivery)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    for row in rows:
        row.locked_until = now + lease
    session.flush()
    return rows


def deliveries(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    webhook_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """The delivery log, newest first."""
    stmt = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    if channel is not None:
        stmt = stmt.where(Delivery.channel == channel)
    if webhook_id is not None:
        stmt = stmt.where(Delivery.webhook_id == webhook_id)
    if since is not None:
        stmt = stmt.where(Delivery.created_at >= since)
    return list(session.scalars(stmt))


def existing_deliveries(session: Session, ids: Sequence[int]) -> set[int]:
    return set(session.scalars(select(Delivery.id).where(Delivery.id.in_(list(ids)))))


def make_pending(session: Session, ids: Sequence[int], now: datetime) -> int:
    """Queue deliveries again (any status) for an attempt now, with a fresh attempt count."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(list(ids)))
        .values(status="pending", attempts=0, next_attempt_at=now, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def prune_delivered(session: Session, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` deliveries acknowledged before ``before`` (the log keeps the rest)."""
    old = (
        select(Delivery.id)
        .where(Delivery.status == "delivered", Delivery.delivered_at < before)
        .order_by(Delivery.id)
        .limit(limit)
    )
    ids = list(session.scalars(old))
    if ids:
        session.execute(
            delete(Delivery).where(Delivery.id.in_(ids)).execution_options(synchronize_session=False)
        )
    return len(ids)


def outbox_counts(session: Session) -> list[tuple[str, str, int]]:
    """(channel, status, count) of every delivery in the outbox."""
    rows = session.execute(
        select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
    )
    return [(channel, status, int(n)) for channel, status, n in rows]


def oldest_pending(session: Session) -> list[tuple[str, datetime]]:
    """(channel, creation time of its oldest pending delivery)."""
    rows = session.execute(
        select(Delivery.channel, func.min(Delivery.created_at))
        .where(Delivery.status == "pending")
        .group_by(Delivery.channel)
    )
    return [(channel, oldest) for channel, oldest in rows if oldest is not None]


def station_notices(session: Session) -> dict[int, StationNotice]:
    return {n.station_id: n for n in session.scalars(select(StationNotice))}


def move_notice(
    session: Session, station_id: int, old: str, new: str, since: datetime | None, now: datetime
) -> bool:
    """Record that ``new`` was announced, if the recorded state is still ``old`` (two workers
    never announce the same change twice)."""
    result = session.execute(
        update(StationNotice)
        .where(StationNotice.station_id == station_id, StationNotice.state == old)
        .values(state=new, since=since, noticed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
