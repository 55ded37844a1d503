"""partition_matches: segment_fingerprints and segment_matches partitioned by their segment's
month (PostgreSQL); heartbeats get an index on their time, for their retention

Neither table has a time of its own, so each gets its segment's start, ``segment_start``
(filled from ``segments``; the application writes it with every row), and becomes
``PARTITION BY RANGE (segment_start)`` with the same UTC months as ``segments``: a segment, its
fingerprints and its match always share a month, and retention drops the three months
together instead of deleting fingerprints and matches row by row (collector/retention.py).
Their primary and unique keys take ``segment_start`` (PostgreSQL requires the partition key in
them); ids still come from one sequence.

No foreign key (segment_id, segment_start) → segments (id, start), although 0013's primary
key would allow one: PostgreSQL then checks, when a segments month is detached, that no row of
the whole referencing table points into it, a join of the month against every fingerprint
while the segments table is locked against uploads (1.4 s for 670,000 segments against
530,000 fingerprints on the benchmark machine, growing with the fingerprints table, several
hundred million rows on a year of 100 stations). As after 0013, the application keeps them
consistent: rows are written with their segment's id and start, and retention removes a
segment's rows with it.

Fingerprints or a match whose segment no longer exists (retention removed it while an upload
raced it) name no month: the migration counts them and leaves them out.

On SQLite (not partitioned) the column is added and filled too, since the same models write
it; its rows keep their foreign key to segments.

``heartbeats`` are not partitioned: they are kept ``retention.heartbeats_days`` (30) days and
deleted by time, which the index on ``received_at`` makes cheap; that works on SQLite too.

The migration runs in one transaction and copies both tables (fingerprints are the largest
one: docs/ops/partitions.md gives its time on a million segments).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text

from collector.db import partitions, rebuild
from collector.db.base import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("segment_fingerprints", "segment_matches")
KEY = "segment_start"

log = logging.getLogger("alembic.runtime.migration")


def _rebuild(conn: Connection, table: str, partition: bool) -> None:
    """``table`` rebuilt partitioned by its segment's month, with ``segment_start`` filled from
    segments (``partition``), or as one plain table without that column again."""
    definition = rebuild.definition(conn, table)
    old = f"{table}_0014"
    conn.execute(text(f'ALTER TABLE "{table}" RENAME TO "{old}"'))
    like = "INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMMENTS"
    if partition:
        conn.execute(
            text(
                f'CREATE TABLE "{table}" (LIKE "{old}" {like}, "{KEY}" timestamptz NOT NULL) '
                f'PARTITION BY RANGE ("{KEY}")'
            )
        )
        # the months segments has a partition for: a segment's rows land in its month
        months = [
            p.month for p in partitions.partitions(conn) if p.table == "segments" and p.month is not None
        ]
        for month in sorted(months):
            partitions.create_month(conn, table, month)
        partitions.create_default(conn, table)
        orphans = conn.scalar(
            text(
                f'SELECT count(*) FROM "{old}" o WHERE NOT EXISTS '  # noqa: S608
                "(SELECT 1 FROM segments s WHERE s.id = o.segment_id)"
            )
        )
        if orphans:
            log.warning("%s: %d rows whose segment retention removed are left out", table, orphans)
        conn.execute(
            text(
                f'INSERT INTO "{table}" SELECT o.*, s.start FROM "{old}" o '  # noqa: S608
                "JOIN segments s ON s.id = o.segment_id"
            )
        )
    else:
        conn.execute(text(f'CREATE TABLE "{table}" (LIKE "{old}" {like})'))
        conn.execute(text(f'ALTER TABLE "{table}" DROP COLUMN "{KEY}"'))
        columns = ", ".join(f'"{c}"' for c in partitions.columns(conn, table))
        conn.execute(text(f'INSERT INTO "{table}" SELECT {columns} FROM "{old}"'))  # noqa: S608
    rebuild.move_sequences(conn, table, definition)
    conn.execute(text(f'DROP TABLE "{old}"'))
    rebuild.restore(conn, table, definition, KEY, partition)


def upgrade() -> None:
    conn = op.get_bind()
    op.create_index("ix_heartbeats_received_at", "heartbeats", ["received_at"])
    if conn.dialect.name != "postgresql":
        for table in TABLES:
            op.add_column(table, sa.Column(KEY, UTCDateTime(), nullable=True))
            start = f"SELECT start FROM segments s WHERE s.id = {table}.segment_id"  # noqa: S608
            conn.execute(text(f"UPDATE {table} SET {KEY} = ({start})"))  # noqa: S608
        return
    for table in TABLES:
        _rebuild(conn, table, partition=True)


def downgrade() -> None:
    conn = op.get_bind()
    op.drop_index("ix_heartbeats_received_at", "heartbeats")
    if conn.dialect.name != "postgresql":
        for table in TABLES:
            with op.batch_alter_table(table) as batch:
                batch.drop_column(KEY)
        return
    for table in TABLES:
        _rebuild(conn, table, partition=False)
