"""Monthly range partitions on PostgreSQL: the tables that grow without bound, by UTC month.

Migration 0013 made ``segments``, ``events`` and ``plays`` ``PARTITION BY RANGE`` on their
``start``, and 0014 ``segment_fingerprints`` and ``segment_matches`` on their segment's start
(``segment_start``, so a segment's rows share its month), one partition per UTC month
(``segments_p2026_12``) and a DEFAULT partition
(``segments_default``) that takes any row no month partition covers, so an insert never fails
for want of a partition. Upkeep (:func:`ensure`, run by the worker and ``sodav-collector
partitions ensure``) creates the coming months' partitions before rows need them, and moves
rows that landed in DEFAULT into the month partition made for them. Retention
(:mod:`collector.retention`) drops whole months with :func:`drop`: a segments month with its
fingerprints' and matches' month (:data:`SEGMENT_ROWS`).

SQLite is not partitioned: every function here is PostgreSQL only (:func:`partitioned` says
whether a database is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

# table -> its partition key; the keys' values are UTC timestamps (timestamptz)
TABLES = {
    "segments": "start",
    "segment_fingerprints": "segment_start",
    "segment_matches": "segment_start",
    "events": "start",
    "plays": "start",
}
# the tables whose rows belong to a segment, partitioned by its start: their month goes with its
SEGMENT_ROWS = ("segment_fingerprints", "segment_matches")

_NAME = re.compile(r"^(?P<table>[a-z_]+)_p(?P<year>\d{4})_(?P<month>\d{2})$")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    month: date | None  # None: the DEFAULT partition
    rows: int  # PostgreSQL's estimate (pg_class.reltuples, from the last ANALYZE)
    bytes: int  # table, indexes and TOAST


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def month_start(month: date) -> datetime:
    """The UTC instant ``month`` begins: a partition's lower bound, the one before's upper."""
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _bound(month: date) -> str:
    return f"{month_start(month):%Y-%m-%d %H:%M:%S}+00"


def partitioned(conn: Connection, table: str = "segments") -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.scalar(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table})
    return bool(kind == "p")


def create_month(conn: Connection, table: str, month: date) -> bool:
    """Create ``table``'s partition for ``month`` unless it exists, moving into it the rows of
    that month that wait in DEFAULT; return whether it was created.

    The new table is filled while it stands alone, then attached: ATTACH takes a lock that lets
    reads and writes of the other partitions go on (only DEFAULT is scanned, to prove it holds
    no row of the month any more)."""
    name = partition_name(table, month)
    if conn.scalar(text("SELECT to_regclass(:n)"), {"n": name}) is not None:
        return False
    key = TABLES[table]
    lo, hi = _bound(month), _bound(add_months(month, 1))
    conn.execute(text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'))
    default = default_name(table)
    if conn.scalar(text("SELECT to_regclass(:n)"), {"n": default}) is not None:
        names = ", ".join(f'"{c}"' for c in columns(conn, table))
        moved = (
            f'WITH moved AS (DELETE FROM "{default}" WHERE "{key}" >= :lo AND "{key}" < :hi '  # noqa: S608
            f'RETURNING {names}) INSERT INTO "{name}" ({names}) SELECT {names} FROM moved'
        )
        conn.execute(text(moved), {"lo": lo, "hi": hi})
    conn.execute(
        text(f"ALTER TABLE \"{table}\" ATTACH PARTITION \"{name}\" FOR VALUES FROM ('{lo}') TO ('{hi}')")
    )
    return True


def create_default(conn: Connection, table: str) -> None:
    conn.execute(text(f'CREATE TABLE IF NOT EXISTS "{default_name(table)}" PARTITION OF "{table}" DEFAULT'))


def columns(conn: Connection, table: str) -> list[str]:
    return list(
        conn.scalars(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            ),
            {"t": table},
        )
    )


def months_in(conn: Connection, relation: str, key: str) -> list[date]:
    """The UTC months of the rows of ``relation`` (a table, a partition), by their ``key``."""
    month = f"date_trunc('month', \"{key}\" AT TIME ZONE 'UTC')::date"
    return list(conn.scalars(text(f'SELECT DISTINCT {month} FROM "{relation}" ORDER BY 1')))  # noqa: S608


def ensure(conn: Connection, ahead: int, now: datetime | None = None) -> list[str]:
    """Give every partitioned table its partitions from the current month to ``ahead`` months
    after it, and one for each month up to there whose rows landed in DEFAULT (rows further
    ahead, a clock years off, stay in DEFAULT: nothing is lost, nothing is made for them);
    return the names created."""
    if not partitioned(conn):
        return []
    current = month_of(now or datetime.now(UTC))
    last = add_months(current, ahead)
    created = []
    for table in TABLES:
        if not partitioned(conn, table):  # a database between two migrations: left as it is
            continue
        create_default(conn, table)
        months = {add_months(current, n) for n in range(ahead + 1)}
        months |= {m for m in months_in(conn, default_name(table), TABLES[table]) if m <= last}
        for month in sorted(months):
            if create_month(conn, table, month):
                created.append(partition_name(table, month))
    return created


def partitions(conn: Connection) -> list[Partition]:
    """Every partition of the partitioned tables, by table then month (DEFAULT last)."""
    rows = conn.execute(
        text(
            "SELECT parent.relname AS parent, child.relname AS name, "
            "greatest(child.reltuples, 0)::bigint AS rows, pg_total_relation_size(child.oid) AS bytes "
            "FROM pg_inherits JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE parent.relname = ANY(:tables) AND parent.relkind = 'p' "
            "AND parent.relnamespace = to_regnamespace(current_schema())"
        ),
        {"tables": list(TABLES)},
    )
    found = []
    for r in rows:
        match = _NAME.match(r.name)
        month = date(int(match["year"]), int(match["month"]), 1) if match else None
        found.append(Partition(r.parent, r.name, month, int(r.rows), int(r.bytes)))
    order = list(TABLES)
    return sorted(found, key=lambda p: (order.index(p.table), p.month is None, p.month or date.min))


def drop(conn: Connection, partition: Partition) -> None:
    """Detach and drop one month partition (a lock on the parent for a moment: callers set
    ``lock_timeout`` so ingest is never held up for long)."""
    conn.execute(text(f'ALTER TABLE "{partition.table}" DETACH PARTITION "{partition.name}"'))
    conn.execute(text(f'DROP TABLE "{partition.name}"'))
