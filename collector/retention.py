"""Retention: raw audio older than the policy goes, plays stay forever.

The policy (``retention.segments_months``, default 12) keeps the segments of the current
month and of the whole calendar months before it; older segments go with their fingerprints
and their matches. Never sooner than re-matching needs them: the first month kept is moved
back until it holds ``matching.rematch_days`` (:mod:`collector.matching.rematch` looks that far
back), and a month that still holds segments waiting for the matcher (new, claimed) is kept
whole until they are matched.

On PostgreSQL a month goes as whole partitions (:mod:`collector.db.partitions`): the month
of the segments, of their fingerprints and of their matches (partitioned by their segment's
start: the same month) are detached and dropped together, in one transaction; rows the DEFAULT
partitions hold for such months are deleted. SQLite is not partitioned: its old rows are
deleted, except the segment rows a play names (small rows, without their fingerprints), which
SQLite's foreign key keeps.

Heartbeats (the agents' minute-by-minute health) are kept ``retention.heartbeats_days`` days
(30; each agent's latest is always kept) and deleted by time, in batches (:func:`heartbeats`).

What a play keeps once its segments are gone: its own row (times, offsets in the recording,
confidence, matched fraction, rate), its ``play_segments`` rows (each segment's id, offset and
score), the stations' events (ICY titles, outages) and reviewers' flags; reports, rollups and
exports read only those, so they do not change. Gone: the segments' fingerprints and match
rows, and (PostgreSQL) the segment rows, so the evidence page lists no segments for it.

Each month dropped is logged (``collector.retention``) and counted
(``sodav_retention_dropped_segments``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, column, delete, func, select, table, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from collector import instruments
from collector.db import partitions
from collector.fleet.models import Agent
from collector.ingest.models import Heartbeat, Segment, SegmentFingerprint
from collector.matching.models import SegmentMatch
from collector.plays.models import PlaySegment
from collector.settings import CollectorSettings

log = logging.getLogger("collector.retention")

LOCK_TIMEOUT = "10s"  # a drop waits this long for the partition's readers, then tries later
BATCH = 20_000  # heartbeats one transaction deletes
WAITING = ("new", "claimed")  # segments the matcher has yet to read


@dataclass(frozen=True)
class Removal:
    what: str  # a partition's name, or the rows a DELETE took ("segments before 2026-01")
    month: date | None
    segments: int
    done: bool  # False: --dry-run, or kept because the matcher has yet to read some of it
    note: str = ""


def first_month_kept(settings: CollectorSettings, now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    current = partitions.month_of(now)
    kept = partitions.add_months(current, -settings.retention.segments_months)
    rematch = partitions.month_of(now - timedelta(days=settings.matching.rematch_days))
    return min(kept, rematch)


def run(
    factory: sessionmaker[Session],
    settings: CollectorSettings,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[Removal]:
    """Remove the segments older than the policy; return what went (or would go)."""
    cutoff = first_month_kept(settings, now)
    with factory() as session:
        conn = session.connection()
        found = partitions.partitions(conn) if partitions.partitioned(conn) else []
    old = [p for p in found if p.table == "segments" and p.month is not None and p.month < cutoff]
    removals = [_drop_month(factory, partition, found, dry_run) for partition in old]
    with factory() as session:
        removal = _delete_rows(session.connection(), cutoff, dry_run)
        session.commit()
    if removal.segments:
        removals.append(removal)
    for r in removals:
        if r.done:
            instruments.RETENTION_DROPPED.inc(r.segments)
            log.info(
                "retention: removed %s (%d segments)%s", r.what, r.segments, f": {r.note}" if r.note else ""
            )
        elif r.note:
            log.warning("retention: kept %s (%d segments): %s", r.what, r.segments, r.note)
    return removals


def _drop_month(
    factory: sessionmaker[Session],
    partition: partitions.Partition,
    found: list[partitions.Partition],
    dry_run: bool,
) -> Removal:
    name = partition.name
    month = table(name, column("id"), column("status"))
    with factory() as session:
        conn = session.connection()
        segments = int(conn.scalar(select(func.count()).select_from(month)) or 0)
        waiting = _waiting(conn, month)
    if waiting:
        return _kept(partition, segments, waiting)
    if dry_run:
        return Removal(name, partition.month, segments, False)
    # the month of the segments' fingerprints and matches goes with it, in one transaction
    dependents = [p for p in found if p.table in partitions.SEGMENT_ROWS and p.month == partition.month]
    fingerprints = sum(p.rows for p in dependents if p.table == "segment_fingerprints")
    with factory() as session:
        conn = session.connection()
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        try:
            conn.execute(text(f'LOCK TABLE "{name}" IN SHARE MODE'))  # no late upload slips in now
            waiting = _waiting(conn, month)
            if waiting:
                return _kept(partition, segments, waiting)
            # segments first: uploads and the matcher lock segments before fingerprints and
            # matches, and the same order keeps them from deadlocking with this transaction
            partitions.drop(conn, partition)
            for dependent in dependents:
                partitions.drop(conn, dependent)
            # rows of this month that wait in the DEFAULT partitions (their month was made late)
            assert partition.month is not None  # run() drops month partitions only
            lo = partitions.month_start(partition.month)
            hi = partitions.month_start(partitions.add_months(partition.month, 1))
            _delete_dependents(conn, None, lo, hi)
        except OperationalError as exc:
            if "lock timeout" not in str(exc) and "deadlock" not in str(exc):
                raise
            note = f"the tables were busy for {LOCK_TIMEOUT}; the month goes at the next run"
            return Removal(name, partition.month, segments, False, note)
        session.commit()
    return Removal(name, partition.month, segments, True, f"{fingerprints} fingerprints (est.)")


def _waiting(conn: Connection, month: Any) -> int:
    return int(conn.scalar(select(func.count()).select_from(month).where(month.c.status.in_(WAITING))) or 0)


def _kept(partition: partitions.Partition, segments: int, waiting: int) -> Removal:
    note = f"{waiting} segments wait for the matcher; the month goes once they are matched"
    return Removal(partition.name, partition.month, segments, False, note)


def _delete_dependents(conn: Connection, ids: Any, since: datetime | None, before: datetime) -> None:
    """Delete the fingerprints and matches of the segments ``ids`` selects (all, if None) that
    start in [since, before): the bounds let PostgreSQL read only the partitions that may hold
    them."""
    for model in (SegmentFingerprint, SegmentMatch):
        stmt = delete(model).where(model.segment_start < before)
        if since is not None:
            stmt = stmt.where(model.segment_start >= since)
        if ids is not None:
            stmt = stmt.where(model.segment_id.in_(ids))
        conn.execute(stmt)


def _delete_rows(conn: Connection, cutoff: date, dry_run: bool) -> Removal:
    """The rows older than ``cutoff`` outside a month partition: SQLite's, PostgreSQL's DEFAULT
    (a month partition goes whole or stays whole, above)."""
    partitioned = partitions.partitioned(conn)
    rows: Any = Segment.__table__
    if partitioned:
        rows = table(partitions.default_name("segments"), column("id"), column("start"), column("status"))
    bound = partitions.month_start(cutoff)
    old = select(rows.c.id).where(rows.c.start < bound, rows.c.status.not_in(WAITING))
    # SQLite's foreign key keeps the segment rows plays name (PostgreSQL's went with 0013)
    gone = old if partitioned else old.where(rows.c.id.not_in(select(PlaySegment.segment_id)))
    what = f"segments before {cutoff:%Y-%m}"
    segments = int(conn.scalar(select(func.count()).select_from(gone.subquery())) or 0)
    if dry_run or not segments:
        return Removal(what, None, segments, False)
    _delete_dependents(conn, old, None, bound)
    removed = conn.execute(delete(rows).where(rows.c.id.in_(gone))).rowcount
    return Removal(what, None, removed, True)


def heartbeats(
    factory: sessionmaker[Session],
    settings: CollectorSettings,
    dry_run: bool = False,
    now: datetime | None = None,
) -> int:
    """Delete the heartbeats older than ``retention.heartbeats_days``, but each agent's latest
    (what the collector reads of them), a batch per transaction; return how many went (or would)."""
    bound = (now or datetime.now(UTC)) - timedelta(days=settings.retention.heartbeats_days)
    other = aliased(Heartbeat)
    latest = (
        select(other.id)
        .where(other.agent_id == Agent.id)
        .order_by(other.received_at.desc(), other.id.desc())
        .limit(1)
        .correlate(Agent)
        .scalar_subquery()
    )
    kept = select(latest).select_from(Agent)
    old = select(Heartbeat.id).where(Heartbeat.received_at < bound, Heartbeat.id.not_in(kept))
    if dry_run:
        with factory() as session:
            return int(session.scalar(select(func.count()).select_from(old.subquery())) or 0)
    removed = 0
    while True:
        with factory() as session:
            done = session.execute(delete(Heartbeat).where(Heartbeat.id.in_(old.limit(BATCH))))
            n = int(done.rowcount or 0)  # type: ignore[attr-defined]
            session.commit()
        removed += n
        if n < BATCH:
            break
    if removed:
        log.info("retention: removed %d heartbeats received before %s", removed, f"{bound:%Y-%m-%d %H:%M}")
    return removed
