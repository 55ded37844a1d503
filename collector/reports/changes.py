"""Which months' final plays changed: the generation a cached report answer is valid for.

Triggers (migration 0011) insert a row into ``report_changes`` for every final play inserted,
changed or deleted, and every flag set or cleared, with the UTC month of its start. Inserts
only: workers writing plays at the same time never wait on each other here. A period's
*generation* is the number of changes of its months so far: the rows, plus those the
reports' ticker folded into ``report_generations`` (:func:`fold`), counted in one statement
so it only ever grows. A changed play of the period changes it; nothing else does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from collector.reports.models import ReportChange, ReportGeneration
from collector.reports.periods import Period


def utc_months(period: Period) -> list[str]:
    """The UTC months a period's instants fall in (a play of the period starts in one of them)."""
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    months = []
    year, month = start.year, start.month
    while datetime(year, month, 1, tzinfo=UTC) < end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def generation(session: Session, period: Period) -> int:
    months = utc_months(period)
    folded = select(func.coalesce(func.sum(ReportGeneration.pruned), 0)).where(
        ReportGeneration.month.in_(months)
    )
    rows = select(func.count()).select_from(ReportChange).where(ReportChange.month.in_(months))
    return int(session.scalar(select(folded.scalar_subquery() + rows.scalar_subquery())) or 0)


def fold(session: Session, limit: int = 100_000) -> int:
    """Fold logged changes into the per-month counts (the caller commits); returns how many.
    Only rows this transaction sees are folded and deleted, by id: one committed meanwhile
    stays for the next time, so no change is ever lost from a generation."""
    rows = session.execute(select(ReportChange.id, ReportChange.month).limit(limit)).all()
    if not rows:
        return 0
    counts: dict[str, int] = {}
    for _id, month in rows:
        counts[month] = counts.get(month, 0) + 1
    for month, n in counts.items():
        gen = session.get(ReportGeneration, month, with_for_update=True)
        if gen is None:
            session.add(ReportGeneration(month=month, pruned=n))
        else:
            gen.pruned += n
    session.execute(delete(ReportChange).where(ReportChange.id.in_([r[0] for r in rows])))
    session.flush()
    return len(rows)
