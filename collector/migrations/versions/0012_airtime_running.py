"""reports: a log of the recordings whose final plays or flags changed, so a month's airtime
rollup (the running month's too) is read current without waiting for a recomputation, and an
index to sum those recordings' plays; it replaces the dirty-month marks of migrations 0003 and
0005 (collector/reports/rollup.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

import collector.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# One row per changed final play: its recording and start (start = end); per flag set, cleared
# or deleted: its recording and span (a play it covers starts before its end and at most a day
# before its start). Instants, not months: the reader knows the time zone, a trigger on SQLite
# could not. Only inserts, so workers writing plays at the same time never wait on each other.
_PG = [
    """
    CREATE FUNCTION plays_log_airtime_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'DELETE' AND NEW.status = 'final' THEN
            INSERT INTO airtime_changes (recording_id, start, "end")
            VALUES (NEW.recording_id, NEW.start, NEW.start);
        END IF;
        IF TG_OP <> 'INSERT' AND OLD.status = 'final' THEN
            INSERT INTO airtime_changes (recording_id, start, "end")
            VALUES (OLD.recording_id, OLD.start, OLD.start);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER plays_airtime_change AFTER INSERT OR UPDATE OR DELETE ON plays
    FOR EACH ROW EXECUTE FUNCTION plays_log_airtime_change()
    """,
    """
    CREATE FUNCTION play_flags_log_airtime_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO airtime_changes (recording_id, start, "end")
            VALUES (NEW.recording_id, NEW.start, NEW."end");
        ELSE
            INSERT INTO airtime_changes (recording_id, start, "end")
            VALUES (OLD.recording_id, OLD.start, OLD."end");
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER play_flags_airtime_change AFTER INSERT OR UPDATE OR DELETE ON play_flags
    FOR EACH ROW EXECUTE FUNCTION play_flags_log_airtime_change()
    """,
]
_LOG = 'INSERT INTO airtime_changes (recording_id, start, "end") VALUES'
_SQLITE = [
    f"""CREATE TRIGGER plays_airtime_change_insert AFTER INSERT ON plays WHEN NEW.status = 'final'
    BEGIN {_LOG} (NEW.recording_id, NEW.start, NEW.start); END""",
    f"""CREATE TRIGGER plays_airtime_change_update AFTER UPDATE ON plays
    WHEN NEW.status = 'final' OR OLD.status = 'final'
    BEGIN {_LOG} (NEW.recording_id, NEW.start, NEW.start), (OLD.recording_id, OLD.start, OLD.start); END""",
    f"""CREATE TRIGGER plays_airtime_change_delete AFTER DELETE ON plays WHEN OLD.status = 'final'
    BEGIN {_LOG} (OLD.recording_id, OLD.start, OLD.start); END""",
    f"""CREATE TRIGGER play_flags_airtime_change_insert AFTER INSERT ON play_flags
    BEGIN {_LOG} (NEW.recording_id, NEW.start, NEW."end"); END""",
    f"""CREATE TRIGGER play_flags_airtime_change_update AFTER UPDATE ON play_flags
    BEGIN {_LOG} (NEW.recording_id, NEW.start, NEW."end"); END""",
    f"""CREATE TRIGGER play_flags_airtime_change_delete AFTER DELETE ON play_flags
    BEGIN {_LOG} (OLD.recording_id, OLD.start, OLD."end"); END""",
]


def upgrade() -> None:
    op.create_table(
        "airtime_changes",
        sa.Column("id", collector.db.base.BigId, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("start", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airtime_changes")),
    )
    # the plays of the recordings changed since the last fold, from the index alone
    op.create_index(
        "ix_plays_final_recording",
        "plays",
        ["recording_id", "start", "station_id", "duration", "end"],
        unique=False,
        postgresql_where=sa.text("status = 'final'"),
        sqlite_where=sa.text("status = 'final'"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _PG if postgres else _SQLITE:
        op.execute(statement)
    # the dirty-month marks go: a rollup they marked is not exact, so it is dropped (the worker
    # computes it again); every rollup left is exact, and from now on the log says what changed
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS plays_airtime_dirty ON plays")
        op.execute("DROP FUNCTION IF EXISTS plays_mark_airtime_dirty()")
        op.execute("DROP TRIGGER IF EXISTS play_flags_airtime_dirty ON play_flags")
        op.execute("DROP FUNCTION IF EXISTS play_flags_mark_airtime_dirty()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS plays_airtime_dirty_{name}")
        for name in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS play_flags_airtime_dirty_{name}")
    op.execute("DELETE FROM airtime_months WHERE month IN (SELECT month FROM airtime_dirty_months)")
    op.execute("DELETE FROM airtime_rollups WHERE month IN (SELECT month FROM airtime_dirty_months)")
    op.drop_table("airtime_dirty_months")


def downgrade() -> None:
    # back to the dirty-month marks, with 0003's and 0005's own statements; every month with
    # final plays is marked (what changed meanwhile is not known), so its rollup is recomputed
    old_plays, old_flags = (context.script.get_revision(r).module for r in ("0003", "0005"))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS play_flags_airtime_change ON play_flags")
        op.execute("DROP FUNCTION IF EXISTS play_flags_log_airtime_change()")
        op.execute("DROP TRIGGER IF EXISTS plays_airtime_change ON plays")
        op.execute("DROP FUNCTION IF EXISTS plays_log_airtime_change()")
    else:
        for table in ("plays", "play_flags"):
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_airtime_change_{name}")
    op.drop_table("airtime_changes")
    op.drop_index("ix_plays_final_recording", table_name="plays")
    op.create_table(
        "airtime_dirty_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_airtime_dirty_months")),
    )
    kind = "_PG" if postgres else "_SQLITE"
    statements = getattr(old_plays, f"{kind}_TRIGGER") + getattr(old_flags, f"{kind}_TRIGGER")
    for statement in statements + getattr(old_plays, f"{kind}_BACKFILL"):
        op.execute(statement)
