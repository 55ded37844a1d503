"""Monthly airtime rollups: the distribution reports of whole months without rescanning plays.

A month of 300 stations holds ~2.5 M plays; summing them for every report takes seconds. The
rollups keep, per local month, final plays' count and seconds per recording × station
(``airtime_month_stations``) and per recording with its number of stations (``airtime_months``).

They are never stale: a database trigger on ``plays`` (migration 0003) marks a month dirty
whenever one of its final plays is inserted, changed or deleted; :func:`ensure` recomputes a
dirty or never-computed month (one ``INSERT … SELECT … GROUP BY``) before a report reads it.
A month still receiving plays is recomputed at each read, which costs what the raw query
costs; a finished month is read from the rollup in milliseconds.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session

from collector.plays.models import Play
from collector.reports.models import AirtimeDirtyMonth, AirtimeMonth, AirtimeMonthStation, AirtimeRollup
from collector.reports.periods import Period, parse_period


def months_of(period: Period) -> list[str] | None:
    """The local months a period is made of, or None when it does not cover whole months."""
    first, last = period.first_day, period.last_day
    if first.day != 1:
        return None
    if (last + timedelta(days=1)).day != 1:
        return None
    months = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def is_fresh(session: Session, month: str, zone: str) -> bool:
    row = session.get(AirtimeRollup, month)
    if row is None or row.zone != zone:
        return False
    return not session.scalar(select(exists().where(AirtimeDirtyMonth.month == month)))


def refresh(session: Session, month: str, zone: str) -> None:
    """Recompute one month's rollups from the final plays (in the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        # two readers refreshing the same month would collide on the primary keys
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"airtime {month}".encode())}
        )
    period = parse_period(month, zone)
    # consume the mark first: a play changed while we compute marks the month again
    session.execute(delete(AirtimeDirtyMonth).where(AirtimeDirtyMonth.month == month))
    session.execute(delete(AirtimeMonthStation).where(AirtimeMonthStation.month == month))
    session.execute(delete(AirtimeMonth).where(AirtimeMonth.month == month))
    session.execute(
        insert(AirtimeMonthStation).from_select(
            ["month", "recording_id", "station_id", "plays", "seconds"],
            select(literal(month), Play.recording_id, Play.station_id, func.count(), func.sum(Play.duration))
            .where(Play.status == "final", Play.start >= period.start, Play.start < period.end)
            .group_by(Play.recording_id, Play.station_id),
        )
    )
    ms = AirtimeMonthStation
    session.execute(
        insert(AirtimeMonth).from_select(
            ["month", "recording_id", "plays", "seconds", "stations"],
            select(ms.month, ms.recording_id, func.sum(ms.plays), func.sum(ms.seconds), func.count())
            .where(ms.month == month)
            .group_by(ms.month, ms.recording_id),
        )
    )
    row = session.get(AirtimeRollup, month)
    if row is None:
        session.add(AirtimeRollup(month=month, zone=zone, refreshed_at=datetime.now(UTC)))
    else:
        row.zone, row.refreshed_at = zone, datetime.now(UTC)
    session.flush()


def ensure(session: Session, months: Sequence[str], zone: str) -> int:
    """Make the rollups of these months current; returns how many had to be recomputed."""
    done = 0
    for month in months:
        if not is_fresh(session, month, zone):
            refresh(session, month, zone)
            done += 1
    return done
