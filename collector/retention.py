"""Retention: raw audio older than the policy goes, plays stay forever.

The policy (``retention.segments_months``, default 12) keeps the segments of the current
month and of the whole calendar months before it; older segments go with their fingerprints
and their matches. Never sooner than re-matching needs them: the first month kept is moved
back until it holds ``matching.rematch_days`` (:mod:`collector.matching.rematch` looks that far
back), and a month that still holds segments waiting for the matcher (new, claimed) is kept
whole until they are matched.

On PostgreSQL a month goes as a whole partition (:mod:`collector.db.partitions`): the
fingerprints and the match of its segments are deleted, then the partition is detached and
dropped; rows the DEFAULT partition holds for such months are deleted. SQLite is not
partitioned: its old rows are deleted the same way, except the segment rows a play names
(small rows, without their fingerprints), which SQLite's foreign key keeps.

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
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, column, delete, func, select, table, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from collector import instruments
from collector.db import partitions
from collector.ingest.models import Segment, SegmentFingerprint
from collector.matching.models import SegmentMatch
from collector.plays.models import PlaySegment
from collector.settings import CollectorSettings

log = logging.getLogger("collector.retention")

LOCK_TIMEOUT = "10s"  # a drop waits this long for the partition's readers, then tries later
BATCH = 20_000  # segments whose fingerprints and matches one transaction deletes
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
        old = [
            p
            for p in (partitions.partitions(conn) if partitions.partitioned(conn) else [])
            if p.table == "segments" and p.month is not None and p.month < cutoff
        ]
    removals = [_drop_month(factory, partition, dry_run) for partition in old]
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


def _drop_month(factory: sessionmaker[Session], partition: partitions.Partition, dry_run: bool) -> Removal:
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
    # the fingerprints and matches first, a batch of segments per transaction: a month of them is
    # the largest delete the collector makes, and a short transaction holds nothing up
    fingerprints, last = 0, -1
    while True:
        with factory() as session:
            conn = session.connection()
            ids = list(
                conn.scalars(select(month.c.id).where(month.c.id > last).order_by(month.c.id).limit(BATCH))
            )
            if not ids:
                break
            fingerprints += _delete_dependents(conn, ids)
            session.commit()
        last = ids[-1]
    with factory() as session:
        conn = session.connection()
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        try:
            conn.execute(text(f'LOCK TABLE "{name}" IN SHARE MODE'))  # no late upload slips in now
            waiting = _waiting(conn, month)
            if waiting:
                return _kept(partition, segments, waiting)
            fingerprints += _delete_dependents(conn, select(month.c.id))  # those that came meanwhile
            partitions.drop(conn, partition)
        except OperationalError as exc:
            if "lock timeout" not in str(exc):
                raise
            note = f"the table was busy for {LOCK_TIMEOUT}; the month goes at the next run"
            return Removal(name, partition.month, segments, False, note)
        session.commit()
    return Removal(name, partition.month, segments, True, f"{fingerprints} fingerprints")


def _waiting(conn: Connection, month: Any) -> int:
    return int(conn.scalar(select(func.count()).select_from(month).where(month.c.status.in_(WAITING))) or 0)


def _kept(partition: partitions.Partition, segments: int, waiting: int) -> Removal:
    note = f"{waiting} segments wait for the matcher; the month goes once they are matched"
    return Removal(partition.name, partition.month, segments, False, note)


def _delete_dependents(conn: Connection, ids: Any) -> int:
    """Delete the fingerprints and matches of the segments ``ids`` selects; return the
    fingerprints deleted."""
    fingerprints = conn.execute(delete(SegmentFingerprint).where(SegmentFingerprint.segment_id.in_(ids)))
    conn.execute(delete(SegmentMatch).where(SegmentMatch.segment_id.in_(ids)))
    return int(fingerprints.rowcount)


def _delete_rows(conn: Connection, cutoff: date, dry_run: bool) -> Removal:
    """The rows older than ``cutoff`` outside a month partition: SQLite's, PostgreSQL's DEFAULT
    (a month partition goes whole or stays whole, above)."""
    partitioned = partitions.partitioned(conn)
    rows: Any = Segment.__table__
    if partitioned:
        rows = table(partitions.default_name("segments"), column("id"), column("start"), column("status"))
    bound = datetime.combine(cutoff, time(), UTC)
    old = select(rows.c.id).where(rows.c.start < bound, rows.c.status.not_in(WAITING))
    # SQLite's foreign key keeps the segment rows plays name (PostgreSQL's went with 0013)
    gone = old if partitioned else old.where(rows.c.id.not_in(select(PlaySegment.segment_id)))
    what = f"segments before {cutoff:%Y-%m}"
    segments = int(conn.scalar(select(func.count()).select_from(gone.subquery())) or 0)
    if dry_run or not segments:
        return Removal(what, None, segments, False)
    _delete_dependents(conn, old)
    removed = conn.execute(delete(rows).where(rows.c.id.in_(gone))).rowcount
    return Removal(what, None, removed, True)
