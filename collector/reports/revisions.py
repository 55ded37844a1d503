"""Finished report periods that re-matching changed are generated again, with a note of why.

When recordings join the catalog, :mod:`collector.matching.rematch` looks for them in the
audio of the last months and sends what they name back through matching: plays of finished
months can change. Once its pass is over and the matching queue is empty (the revised plays are
in), every file already generated for a finished period the pass touched is generated again
(:func:`collector.reports.schedule.generate`: identical bytes when nothing changed in it) and
keeps the reason in ``revision_note``, which the reports' listing shows. One period per call,
as the scheduled reports do, so matching never waits long. :func:`revise` commits nothing;
the worker's :class:`Reviser` commits what it generated.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collector.ingest.models import Segment
from collector.matching.rematch import RematchMark
from collector.reports.models import GeneratedReport
from collector.reports.periods import PeriodError, parse_period
from collector.reports.schedule import GRACE, Spec, generate
from collector.settings import CollectorSettings

__all__ = ["Reviser", "revise"]

log = logging.getLogger("collector.reports")
CHECK_INTERVAL_S = 60.0
SETTLE = timedelta(minutes=2)  # after a pass, the worker's cycles to re-match what it requeued


def revise(session: Session, settings: CollectorSettings, now: datetime | None = None) -> int:
    """Regenerate the files of one finished period the last re-matching pass changed; returns
    how many files were generated."""
    now = now or datetime.now(UTC)
    mark = session.get(RematchMark, 1)
    if mark is None or mark.last_finished_at is None or mark.last_first is None or mark.last_last is None:
        return 0
    if now - mark.last_finished_at < SETTLE:
        return 0
    waiting = session.scalar(
        select(func.count()).select_from(Segment).where(Segment.status.in_(("new", "claimed")))
    )
    if waiting:
        return 0
    stale = session.scalars(
        select(GeneratedReport)
        .where(GeneratedReport.generated_at < mark.last_finished_at)
        .order_by(GeneratedReport.period, GeneratedReport.id)
    ).all()
    for record in stale:
        try:
            period = parse_period(record.period, settings.timezone)
        except PeriodError:
            continue
        touched = period.start <= mark.last_last and mark.last_first < period.end
        if not touched or period.end + GRACE > now:
            continue
        files = [r for r in stale if r.period == record.period]
        for r in files:
            generate(session, settings, Spec(r.period, r.report, r.scope, r.fmt, r.lang))
            r.revision_note = mark.last_note
        log.info("reports of %s generated again: %s", record.period, mark.last_note)
        return len(files)
    return 0


class Reviser:
    """The worker's hook: cheap to call every cycle, looks every :data:`CHECK_INTERVAL_S` and
    comes back at the next cycle while periods remain to be generated again."""

    def __init__(self, settings: CollectorSettings, interval_s: float = CHECK_INTERVAL_S):
        self.settings = settings
        self.interval_s = interval_s
        self.next_at = 0.0

    def tick(self, factory: sessionmaker[Session]) -> int:
        if time.monotonic() < self.next_at:
            return 0
        done = 0
        try:
            with factory() as session:
                done = revise(session, self.settings)
                session.commit()
        except Exception:
            log.exception("regenerating revised reports failed; retrying later")
        self.next_at = time.monotonic() + (0.0 if done else self.interval_s)
        return done
