"""Monthly airtime rollup: a month's airtime per recording, finished or running, without summing
its plays at every report.

A month of 300 stations holds ~2.5 M plays; summing them (plays, seconds, distinct stations per
recording) takes seconds (7 s at 30 M plays). ``airtime_months`` keeps that answer per local
month and recording; the worker computes it once per month in its time zone (:func:`refresh`),
the month still running included, as soon as the month begins (it is empty then).

It is never read stale, and a change shows at once: database triggers (migration 0012) log into
``airtime_changes`` every final play inserted, changed or deleted (its recording and start) and
every flag set, cleared or deleted (its recording and span; flagged plays are left out). A
report reads the month's rollup rows of the recordings with no change logged, and sums the
plays of the few recordings with one (:func:`per_recording`). The worker folds the log
(:func:`fold`) every minute: it deletes the rows it saw, then recomputes each changed
recording's row in each month holding a rollup. A month without a rollup in the configured
zone (never computed, or computed in another zone) is summed from the plays until the worker
has computed it.

Why a log of instants and not the alternatives:

- Counters kept by the trigger (``plays + 1`` on the row of the month and recording): two workers
  assembling plays of the same popular song would update one row and wait on, or deadlock with,
  each other's open transaction. The log is inserts only: no writer ever waits on another.
- A trigger cannot tell a play's local month on SQLite (no time zones there) and would freeze
  the zone into the data; the log holds instants and the reader, who knows the zone, places them.
- Per-day rollups with today summed from the plays: ``stations`` counts distinct stations over
  the month, which per-day rows per recording cannot add up, and per (day, recording, station)
  rows are about as many as the plays.

Between two folds (a minute) the log holds about a minute of final plays: at 300 stations, some
55 recordings, whose plays in the month are read from the covering index
``ix_plays_final_recording`` alone (see docs/benchmarks.md, Reports). If the worker stops
folding, reports stay right and grow slower, towards the plain sum of the month's plays.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, Subquery, delete, exists, func, insert, literal, select, text, union_all
from sqlalchemy.orm import Session

from collector.plays import flags
from collector.plays.models import Play
from collector.reports.models import AirtimeChange, AirtimeMonth, AirtimeRollup
from collector.reports.periods import Period, parse_period, zone

log = logging.getLogger("collector.reports")

# a flag covers the plays overlapping its span: they start before its end and, being shorter than
# a day, at most a day before its start; a change logged within a day after a month may touch it
MAX_PLAY = timedelta(days=1)
FOLD_BATCH = 5000  # log rows folded per step
CHUNK = 500  # ids or recordings per IN list (old SQLite allows 999 parameters)
MAX_CHANGED = {True: 30_000, False: 900}  # changed recordings a report names (PostgreSQL, SQLite)


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


def is_current(session: Session, month: str, tz: str) -> bool:
    """Whether the month has a rollup computed in this zone (read with :func:`per_recording`)."""
    return (
        session.scalar(select(exists().where(AirtimeRollup.month == month, AirtimeRollup.zone == tz))) is True
    )


def _sum_plays(
    session: Session, period: Period, recordings: Collection[int] | None
) -> Select[tuple[int, int, float, int]]:
    """(recording, plays, seconds, stations) summed from the final unflagged plays of the period,
    of every recording or of those given."""
    where = [Play.status == "final", Play.start >= period.start, Play.start < period.end]
    if recordings is not None:
        where.append(Play.recording_id.in_(recordings))
    pairs = (
        select(Play.recording_id, func.count().label("n"), func.sum(Play.duration).label("s"))
        .where(*where, *flags.exclusion(session))
        .group_by(Play.recording_id, Play.station_id)
        .subquery()
    )
    return select(pairs.c.recording_id, func.sum(pairs.c.n), func.sum(pairs.c.s), func.count()).group_by(
        pairs.c.recording_id
    )


def _changed(period: Period) -> Select[int]:
    """The recordings with a change logged that may touch the period."""
    return select(AirtimeChange.recording_id).where(
        AirtimeChange.end >= period.start, AirtimeChange.start < period.end + MAX_PLAY
    )


def per_recording(session: Session, month: str, period: Period) -> Subquery | None:
    """The month's airtime per recording (recording_id, plays, seconds, stations): the rollup's
    rows, except the recordings changed since, summed from the plays; None when too many
    changed to name (then sum the month's plays). Only for a month :func:`is_current` says has
    a rollup in the period's zone.

    The changed recordings are read first and named as constants, so the database plans for
    their true number (the log's statistics churn every minute). A recording changed after
    that read is counted as it stood then; one folded meanwhile is read current: every line is
    right as of the report's start or later."""
    changed = sorted(set(session.scalars(_changed(period))))
    if len(changed) > MAX_CHANGED[session.get_bind().dialect.name == "postgresql"]:
        return None
    am = AirtimeMonth
    kept = select(am.recording_id, am.plays, am.seconds, am.stations).where(am.month == month)
    if not changed:
        return kept.subquery("r")
    kept = kept.where(am.recording_id.not_in(changed))
    return union_all(kept, _sum_plays(session, period, changed)).subquery("r")


def _recompute(session: Session, month: str, period: Period, recordings: Collection[int] | None) -> None:
    """Replace the month's rollup rows, of every recording or of those given, by the plays' sums."""
    ids = sorted(recordings) if recordings is not None else None
    parts = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)] if ids is not None else [None]
    for part in parts:
        gone = delete(AirtimeMonth).where(AirtimeMonth.month == month)
        session.execute(gone if part is None else gone.where(AirtimeMonth.recording_id.in_(part)))
        rows = _sum_plays(session, period, part).add_columns(literal(month))
        columns = ["recording_id", "plays", "seconds", "stations", "month"]
        session.execute(insert(AirtimeMonth).from_select(columns, rows))


def refresh(session: Session, month: str, tz: str) -> None:
    """Compute one month's rollup from the final plays (in the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        # two workers refreshing the same month would collide on the primary key
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"airtime {month}".encode())}
        )
    _recompute(session, month, parse_period(month, tz), None)
    row = session.get(AirtimeRollup, month)
    if row is None:
        session.add(AirtimeRollup(month=month, zone=tz, refreshed_at=datetime.now(UTC)))
    else:
        row.zone, row.refreshed_at = tz, datetime.now(UTC)
    session.flush()


def fold(session: Session, tz: str, limit: int = FOLD_BATCH) -> int:
    """Fold logged changes into the rollups of this zone (the caller commits); returns how many.

    The rows are deleted first, by id, then the recordings they name are recomputed: a change
    committed meanwhile was either seen (and is in the recomputation, which reads later) or
    stays logged for the next time, and is summed from the plays by readers until then."""
    rows = session.execute(
        select(AirtimeChange.id, AirtimeChange.recording_id, AirtimeChange.start, AirtimeChange.end)
        .order_by(AirtimeChange.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    for i in range(0, len(ids), CHUNK):
        session.execute(delete(AirtimeChange).where(AirtimeChange.id.in_(ids[i : i + CHUNK])))
    for month in session.scalars(select(AirtimeRollup.month).where(AirtimeRollup.zone == tz)):
        period = parse_period(month, tz)
        changed = {
            rec for _id, rec, start, end in rows if end >= period.start and start < period.end + MAX_PLAY
        }
        if changed:
            _recompute(session, month, period, changed)
    session.flush()
    return len(rows)


def stale_months(session: Session, tz: str, now: datetime | None = None) -> list[str]:
    """Months from the first final play's to the running one without a rollup in this zone,
    most recent first (the running month first: it is the one read the most)."""
    now = now or datetime.now(UTC)
    first = session.scalar(select(func.min(Play.start)).where(Play.status == "final"))
    if first is None:
        return []
    local, start = now.astimezone(zone(tz)), first.astimezone(zone(tz))
    year, month = start.year, start.month
    months = []
    while (year, month) <= (local.year, local.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    done = set(session.scalars(select(AirtimeRollup.month).where(AirtimeRollup.zone == tz)))
    return [m for m in reversed(months) if m not in done]


def maintain(session: Session, tz: str, budget: int = 1, now: datetime | None = None) -> int:
    """The worker's step: fold the change log, then compute up to ``budget`` missing months;
    returns the months computed, plus one if the log still holds rows (the caller commits)."""
    more = fold(session, tz) == FOLD_BATCH
    done = 0
    for month in stale_months(session, tz, now)[:budget]:
        t = time.perf_counter()
        refresh(session, month, tz)
        log.info("airtime rollup of %s computed in %.1f s", month, time.perf_counter() - t)
        done += 1
    return done + more
