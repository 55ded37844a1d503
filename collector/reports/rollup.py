"""Monthly airtime rollup: a finished month's airtime per recording without rescanning plays.

A month of 300 stations holds ~2.5 M plays; summing them (plays, seconds, distinct stations per
recording) takes seconds. ``airtime_months`` keeps that answer per local month and recording.

It is never read stale: a database trigger on ``plays`` (migration 0003) marks a month dirty
whenever one of its final plays is inserted, changed or deleted, and one on ``play_flags``
(migration 0005) whenever a reviewer flags a play of it or clears the flag (flagged plays are
left out), and a report reads the rollup
only for a month that is computed, in the right time zone, and not dirty; otherwise it sums the
plays, as it would without a rollup. The worker (:class:`collector.reports.schedule.Ticker`)
recomputes dirty finished months in the background; the month still running is always summed
from the plays (it changes every minute).
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session

from collector.plays import flags
from collector.plays.models import Play
from collector.reports.models import AirtimeDirtyMonth, AirtimeMonth, AirtimeRollup
from collector.reports.periods import Period, parse_period, zone

log = logging.getLogger("collector.reports")


def month_of(period: Period) -> str | None:
    """The local month a period is exactly, or None."""
    first, last = period.first_day, period.last_day
    if (
        first.day == 1
        and (last + timedelta(days=1)).day == 1
        and (first.year, first.month)
        == (
            last.year,
            last.month,
        )
    ):
        return f"{first.year:04d}-{first.month:02d}"
    return None


def is_fresh(session: Session, month: str, tz: str) -> bool:
    row = session.get(AirtimeRollup, month)
    if row is None or row.zone != tz:
        return False
    return not session.scalar(select(exists().where(AirtimeDirtyMonth.month == month)))


def refresh(session: Session, month: str, tz: str) -> None:
    """Recompute one month's rollup from the final plays (in the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        # two workers refreshing the same month would collide on the primary key
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"airtime {month}".encode())}
        )
    period = parse_period(month, tz)
    # consume the mark first: a play changed while we compute marks the month again
    session.execute(delete(AirtimeDirtyMonth).where(AirtimeDirtyMonth.month == month))
    session.execute(delete(AirtimeMonth).where(AirtimeMonth.month == month))
    pairs = (
        select(Play.recording_id, func.count().label("n"), func.sum(Play.duration).label("s"))
        .where(
            Play.status == "final",
            Play.start >= period.start,
            Play.start < period.end,
            *flags.exclusion(session),
        )
        .group_by(Play.recording_id, Play.station_id)
        .subquery()
    )
    session.execute(
        insert(AirtimeMonth).from_select(
            ["month", "recording_id", "plays", "seconds", "stations"],
            select(
                literal(month), pairs.c.recording_id, func.sum(pairs.c.n), func.sum(pairs.c.s), func.count()
            ).group_by(pairs.c.recording_id),
        )
    )
    row = session.get(AirtimeRollup, month)
    if row is None:
        session.add(AirtimeRollup(month=month, zone=tz, refreshed_at=datetime.now(UTC)))
    else:
        row.zone, row.refreshed_at = tz, datetime.now(UTC)
    session.flush()


def stale_months(session: Session, tz: str, now: datetime | None = None) -> list[str]:
    """Finished months whose rollup is dirty or computed in another zone, most recent first."""
    now = now or datetime.now(UTC)
    local = now.astimezone(zone(tz))
    current = f"{local.year:04d}-{local.month:02d}"
    dirty = set(session.scalars(select(AirtimeDirtyMonth.month)))
    dirty |= set(session.scalars(select(AirtimeRollup.month).where(AirtimeRollup.zone != tz)))
    return sorted((m for m in dirty if m < current), reverse=True)


def refresh_stale(session: Session, tz: str, budget: int = 1, now: datetime | None = None) -> int:
    """Recompute up to ``budget`` stale finished months; the caller commits."""
    done = 0
    for month in stale_months(session, tz, now)[:budget]:
        t = time.perf_counter()
        refresh(session, month, tz)
        log.info("airtime rollup of %s recomputed in %.1f s", month, time.perf_counter() - t)
        done += 1
    return done
