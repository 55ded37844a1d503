"""Schema of the outbox, in named steps applied once each, in order, each all or nothing.

Works on old SQLite (3.16+, Debian 9): no RETURNING, no STRICT tables, no UPSERT.

This is the model of sqlite-utils' ``Migrations`` (a named step and the record that it ran,
in one transaction), in 30 lines of ``sqlite3``, and not sqlite-utils itself: importing
sqlite-utils costs the agent 2.0 MB of resident memory on every box (it brings click,
pluggy, python-dateutil and tabulate; measured after the agent's other imports), of an
80 MB budget for four stations, for a class the outbox would use once at start. (Its
migrations would work on old SQLite too; a box's existing ``_migrations`` table would
also have to be carried over to its ``_sqlite_migrations``.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _m001_initial(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            seq INTEGER NOT NULL,
            start TEXT NOT NULL,
            payload TEXT NOT NULL,          -- SegmentV1 JSON, ready to send
            bytes INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            parked TEXT,                    -- reason, when the collector refused it for good
            UNIQUE (station, seq)
        )""")
    db.execute("CREATE INDEX segments_pending ON segments (parked, id)")
    db.execute("""
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            kind TEXT NOT NULL,
            seq INTEGER NOT NULL,
            key TEXT,                       -- lets an outage's end update the same event
            payload TEXT NOT NULL,          -- EventV1 JSON
            created_at TEXT NOT NULL,
            parked TEXT
        )""")
    db.execute("CREATE INDEX events_pending ON events (parked, id)")
    db.execute(
        "CREATE TABLE sequences (station TEXT NOT NULL, kind TEXT NOT NULL, next INTEGER NOT NULL, "
        "PRIMARY KEY (station, kind))"
    )
    db.execute(
        "CREATE TABLE event_keys (station TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, "
        "PRIMARY KEY (station, key))"
    )
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("""
        CREATE TABLE excerpts (
            id INTEGER PRIMARY KEY,
            station TEXT NOT NULL,
            start TEXT NOT NULL,
            end TEXT NOT NULL,
            path TEXT NOT NULL,
            bytes INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX excerpts_station_start ON excerpts (station, start)")


def _m002_excerpt_times_one_width(db: sqlite3.Connection) -> None:
    """Excerpt times are compared as text: give the whole-second ones their microseconds.

    "2026-01-01T00:02:00Z" sorted after "2026-01-01T00:02:00.162903Z", so a file ending a
    fraction of a second after a requested start was left out of a cut.
    """
    db.execute("UPDATE excerpts SET start = substr(start, 1, 19) || '.000000Z' WHERE length(start) = 20")
    db.execute('UPDATE excerpts SET "end" = substr("end", 1, 19) || \'.000000Z\' WHERE length("end") = 20')


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", _m001_initial),
    ("002_excerpt_times_one_width", _m002_excerpt_times_one_width),
]


def apply(db: sqlite3.Connection) -> list[str]:
    """Apply pending migrations in order, each all or nothing; return their names.

    ``db`` must be in autocommit mode (``isolation_level=None``), as the outbox opens it.
    """
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        # an explicit transaction: the connection is in autocommit mode (isolation_level=None),
        # where ``with conn:`` would commit each statement and leave a failed step half done
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", [name])
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        applied.append(name)
    return applied
