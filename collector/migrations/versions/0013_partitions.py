"""partitions: segments, events and plays become monthly range partitions on PostgreSQL
(collector/db/partitions.py); SQLite is left as it is

Each table is rebuilt the same way, whatever it holds: its definition is read from the catalog
(indexes, constraints, triggers: one another migration adds moves too), the table is renamed,
a partitioned table of the same columns is created with a partition for each month its rows
need (up to three months ahead; rows further ahead go to the DEFAULT partition), the rows are
copied, the old table dropped, and its indexes, constraints and triggers created again. A
primary key or unique constraint must hold the partition key, so ``start`` joins each of them.

No foreign key may name a partitioned table's ``id`` alone, so the keys that named
``segments.id`` (segment_fingerprints, segment_matches, play_segments) and ``plays.id``
(play_segments) are dropped: the application deletes a play's play_segments itself
(plays.repository, recognizers.queue), retention deletes a segment's fingerprints and match
before it drops the segment's month, and play_segments outlive their segments as the play's
evidence (collector/retention.py).

The whole migration runs in one transaction: while it runs, the three tables are locked
(docs/ops/partitions.md gives its time on a million segments).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import op
from sqlalchemy import Connection, text

from collector.db import partitions, rebuild

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

AHEAD = 3
# the tables 0013 partitions, by their key (later migrations add to partitions.TABLES)
TABLES = {"segments": "start", "events": "start", "plays": "start"}

# the foreign keys 0013 drops, as 0001/0002 made them, for the downgrade
_KEYS = [
    (
        "segment_fingerprints",
        "fk_segment_fingerprints_segment_id_segments",
        "segment_id",
        "segments",
        "CASCADE",
    ),
    ("segment_matches", "fk_segment_matches_segment_id_segments", "segment_id", "segments", "CASCADE"),
    ("play_segments", "fk_play_segments_segment_id_segments", "segment_id", "segments", None),
    ("play_segments", "fk_play_segments_play_id_plays", "play_id", "plays", "CASCADE"),
]


def _rebuild(conn: Connection, table: str, partition: bool) -> None:
    """``table`` rebuilt partitioned by month (``partition``) or as one plain table again."""
    key = TABLES[table]
    definition = rebuild.definition(conn, table)
    old = f"{table}_0013"
    conn.execute(text(f'ALTER TABLE "{table}" RENAME TO "{old}"'))
    clause = f' PARTITION BY RANGE ("{key}")' if partition else ""
    like = "INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMMENTS"
    conn.execute(text(f'CREATE TABLE "{table}" (LIKE "{old}" {like}){clause}'))
    if partition:
        current = partitions.month_of(datetime.now(UTC))
        last = partitions.add_months(current, AHEAD)
        months = {m for m in partitions.months_in(conn, old, key) if m <= last}
        months |= {partitions.add_months(current, n) for n in range(AHEAD + 1)}
        for month in sorted(months):
            partitions.create_month(conn, table, month)
        partitions.create_default(conn, table)
    conn.execute(text(f'INSERT INTO "{table}" SELECT * FROM "{old}"'))  # noqa: S608
    rebuild.move_sequences(conn, table, definition)
    conn.execute(text(f'DROP TABLE "{old}"'))
    rebuild.restore(conn, table, definition, key, partition)


def _drop_keys_to(conn: Connection, table: str) -> None:
    """Drop every foreign key that names ``table`` (0001 and 0002 made the ones in _KEYS)."""
    rows = conn.execute(
        text(
            "SELECT conrelid::regclass::text AS owner, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = to_regclass(:t)"
        ),
        {"t": table},
    ).all()
    for owner, name in rows:
        conn.execute(text(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"'))


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in TABLES:
        _drop_keys_to(conn, table)
        _rebuild(conn, table, partition=True)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(conn, table, partition=False)
    # what retention deleted has no segment to point at any more: such rows go, as the keys demand
    for column, target in (("segment_id", "segments"), ("play_id", "plays")):
        gone = f"NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = p.{column})"  # noqa: S608
        conn.execute(text(f"DELETE FROM play_segments p WHERE {gone}"))  # noqa: S608
    for owner, name, column, target, ondelete in _KEYS:
        action = f" ON DELETE {ondelete}" if ondelete else ""
        key = f'FOREIGN KEY ("{column}") REFERENCES "{target}" (id){action}'
        conn.execute(text(f'ALTER TABLE "{owner}" ADD CONSTRAINT "{name}" {key}'))
