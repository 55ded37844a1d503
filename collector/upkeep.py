"""Database upkeep: the coming months' partitions and the retention policy, from the worker
every hour and from ``sodav-collector partitions ensure|list`` and ``retention run``.

What they do and why: docs/ops/partitions.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from collector import retention
from collector.db import locks, partitions
from collector.db.session import open_database
from collector.formats import print_table
from collector.settings import CollectorSettings

log = logging.getLogger("collector.upkeep")

INTERVAL_S = 3600.0


def ensure(factory: sessionmaker[Session], settings: CollectorSettings) -> list[str]:
    """Create the partitions the coming months need; return their names (none on SQLite)."""
    with factory() as session:
        if not locks.lock(session, locks.JOB, locks.job_key("partitions"), wait=False):
            return []  # another worker is at it
        created = partitions.ensure(session.connection(), settings.retention.partitions_ahead)
        session.commit()
    for name in created:
        log.info("partitions: created %s", name)
    return created


class Upkeep:
    """The worker's hook, cheap to call every cycle: every :data:`INTERVAL_S` (and at the first
    call) it creates the coming months' partitions and applies the retention policy."""

    def __init__(self, settings: CollectorSettings, interval_s: float = INTERVAL_S):
        self.settings = settings
        self.interval_s = interval_s
        self.next_at = 0.0

    def tick(self, factory: sessionmaker[Session]) -> None:
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + self.interval_s
        try:
            ensure(factory, self.settings)
            if self.settings.retention.enabled:
                retention.run(factory, self.settings)
                retention.heartbeats(factory, self.settings)
        except Exception:
            log.exception("database upkeep failed; retrying in %.0f s", self.interval_s)


def _ensure(args: argparse.Namespace) -> int:
    with open_database(args.config) as db:
        with db.sessions() as session:
            if not partitions.partitioned(session.connection()):
                print("the database is not partitioned (SQLite, or PostgreSQL before `db upgrade`)")
                return 0
        created = ensure(db.sessions, db.settings)
    for name in created:
        print(f"created {name}")
    ahead = db.settings.retention.partitions_ahead
    print(f"{len(created)} partition(s) created; each table has its partitions up to {ahead} month(s) ahead")
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        conn = s.connection()
        if not partitions.partitioned(conn):
            print("the database is not partitioned (SQLite, or PostgreSQL before `db upgrade`)")
            return 0
        found = partitions.partitions(conn)
    rows = [
        [p.table, p.name, f"{p.month:%Y-%m}" if p.month else "DEFAULT", str(p.rows), _size(p.bytes)]
        for p in found
    ]
    print_table(rows, ["TABLE", "PARTITION", "MONTH", "ROWS (EST.)", "SIZE"])
    return 0


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError


def _retention(args: argparse.Namespace) -> int:
    with open_database(args.config) as db:
        cutoff = retention.first_month_kept(db.settings)
        removals = retention.run(db.sessions, db.settings, dry_run=args.dry_run)
        heartbeats = retention.heartbeats(db.sessions, db.settings, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    total = 0
    for r in removals:
        kept = not r.done and bool(r.note)  # the matcher has yet to read some of it
        total += 0 if kept else r.segments
        note = f" ({r.note})" if r.note else ""
        print(f"{'kept' if kept else verb} {r.what}: {r.segments} segment(s){note}")
    days = db.settings.retention.heartbeats_days
    print(f"{verb} {heartbeats} heartbeat(s) older than {days} day(s)")
    print(f"{verb} {total} segment(s) older than {cutoff:%Y-%m}; plays are kept", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "partitions",
        help="monthly partitions of segments, their fingerprints and matches, events, plays (PostgreSQL)",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser(
        "ensure", help="create the coming months' partitions now (the worker does it hourly)"
    )
    a.set_defaults(func=_ensure)
    a = actions.add_parser("list", help="each partition: table, month, rows (estimate), size")
    a.set_defaults(func=_list)
    p = sub.add_parser(
        "retention", help="remove raw segments and heartbeats older than the retention policy (plays stay)"
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("run", help="remove them now (the worker does it hourly)")
    a.add_argument("--dry-run", action="store_true", help="only say what would go")
    a.set_defaults(func=_retention)
