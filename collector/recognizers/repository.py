"""Queries of the recognizers domain: the request counters and the service rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.recognizers.models import RecognizerRequests, RecognizerService

# what a request that left the collector ended as; "unreachable" never left
BILLABLE = ("named", "not_found", "retry", "park", "stop", "pending")


def lock_service(session: Session, service: str) -> RecognizerService:
    """The service's row, locked until the transaction ends.

    A no-op ``UPDATE`` takes the lock on both databases before anything is read: the row on
    PostgreSQL, the database's write lock on SQLite (whose transactions otherwise take it
    only at their first write, after the reads that decide)."""
    touched = session.execute(
        update(RecognizerService).where(RecognizerService.service == service).values(service=service)
    )
    if not getattr(touched, "rowcount", 1):  # a service added after the migration seeded the rows
        session.add(RecognizerService(service=service))
        session.flush()
    return session.scalars(
        select(RecognizerService)
        .where(RecognizerService.service == service)
        .execution_options(populate_existing=True)
    ).one()


def service_row(session: Session, service: str) -> RecognizerService | None:
    return session.get(RecognizerService, service)


def count(session: Session, service: str, day: date, outcome: str, delta: int = 1) -> None:
    """Add ``delta`` to the (service, day, outcome) counter, in one statement."""
    values = {"service": service, "day": day, "outcome": outcome, "count": delta}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(RecognizerRequests).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["service", "day", "outcome"],
        set_={"count": RecognizerRequests.count + delta},
    )
    session.execute(stmt)


def by_outcome(session: Session, service: str, day: date) -> dict[str, int]:
    rows = session.execute(
        select(RecognizerRequests.outcome, RecognizerRequests.count).where(
            RecognizerRequests.service == service, RecognizerRequests.day == day
        )
    )
    return {outcome: n for outcome, n in rows if n}


def billable(session: Session, service: str, first: date, last: date) -> int:
    """Requests that left the collector for ``service`` from ``first`` to ``last`` (days included)."""
    total = session.scalar(
        select(func.coalesce(func.sum(RecognizerRequests.count), 0)).where(
            RecognizerRequests.service == service,
            RecognizerRequests.day >= first,
            RecognizerRequests.day <= last,
            RecognizerRequests.outcome.in_(BILLABLE),
        )
    )
    return int(total or 0)
