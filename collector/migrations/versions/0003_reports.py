"""reports: generated report records, monthly airtime rollup and its trigger, covering index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Any change to a final play marks its month dirty, so the monthly airtime rollups know which
# months to recompute (collector/reports/rollup.py). Months are local; the trigger marks the UTC
# months of start - 14 h and start + 14 h, one of which is the local month in any time zone.
_PG_TRIGGER = [
    """
    CREATE FUNCTION plays_mark_airtime_dirty() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'DELETE' AND NEW.status = 'final' THEN
            INSERT INTO airtime_dirty_months (month)
            VALUES (to_char((NEW.start AT TIME ZONE 'UTC') - interval '14 hours', 'YYYY-MM')),
                   (to_char((NEW.start AT TIME ZONE 'UTC') + interval '14 hours', 'YYYY-MM'))
            ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP <> 'INSERT' AND OLD.status = 'final' THEN
            INSERT INTO airtime_dirty_months (month)
            VALUES (to_char((OLD.start AT TIME ZONE 'UTC') - interval '14 hours', 'YYYY-MM')),
                   (to_char((OLD.start AT TIME ZONE 'UTC') + interval '14 hours', 'YYYY-MM'))
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER plays_airtime_dirty AFTER INSERT OR UPDATE OR DELETE ON plays
    FOR EACH ROW EXECUTE FUNCTION plays_mark_airtime_dirty()
    """,
]
_SQLITE_TRIGGER = [
    """
    CREATE TRIGGER plays_airtime_dirty_insert AFTER INSERT ON plays WHEN NEW.status = 'final'
    BEGIN
        INSERT OR IGNORE INTO airtime_dirty_months (month) VALUES
            (strftime('%Y-%m', NEW.start, '-14 hours')), (strftime('%Y-%m', NEW.start, '+14 hours'));
    END
    """,
    """
    CREATE TRIGGER plays_airtime_dirty_update AFTER UPDATE ON plays
    WHEN NEW.status = 'final' OR OLD.status = 'final'
    BEGIN
        INSERT OR IGNORE INTO airtime_dirty_months (month) VALUES
            (strftime('%Y-%m', NEW.start, '-14 hours')), (strftime('%Y-%m', NEW.start, '+14 hours')),
            (strftime('%Y-%m', OLD.start, '-14 hours')), (strftime('%Y-%m', OLD.start, '+14 hours'));
    END
    """,
    """
    CREATE TRIGGER plays_airtime_dirty_delete AFTER DELETE ON plays WHEN OLD.status = 'final'
    BEGIN
        INSERT OR IGNORE INTO airtime_dirty_months (month) VALUES
            (strftime('%Y-%m', OLD.start, '-14 hours')), (strftime('%Y-%m', OLD.start, '+14 hours'));
    END
    """,
]

_PG_BACKFILL = [
    "INSERT INTO airtime_dirty_months (month) SELECT DISTINCT "
    "to_char((start AT TIME ZONE 'UTC') - interval '14 hours', 'YYYY-MM') FROM plays "
    "WHERE status = 'final' ON CONFLICT DO NOTHING",
    "INSERT INTO airtime_dirty_months (month) SELECT DISTINCT "
    "to_char((start AT TIME ZONE 'UTC') + interval '14 hours', 'YYYY-MM') FROM plays "
    "WHERE status = 'final' ON CONFLICT DO NOTHING",
]
_SQLITE_BACKFILL = [
    "INSERT OR IGNORE INTO airtime_dirty_months (month) SELECT DISTINCT "
    "strftime('%Y-%m', start, '-14 hours') FROM plays WHERE status = 'final'",
    "INSERT OR IGNORE INTO airtime_dirty_months (month) SELECT DISTINCT "
    "strftime('%Y-%m', start, '+14 hours') FROM plays WHERE status = 'final'",
]


def upgrade() -> None:
    op.create_table(
        "airtime_dirty_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_airtime_dirty_months")),
    )
    op.create_table(
        "airtime_rollups",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("refreshed_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_airtime_rollups")),
    )
    op.create_table(
        "airtime_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("stations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_airtime_months_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("month", "recording_id", name=op.f("pk_airtime_months")),
    )
    op.create_table(
        "generated_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("report", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("fmt", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("generated_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_reports")),
        sa.UniqueConstraint(
            "period",
            "report",
            "scope",
            "fmt",
            "lang",
            name=op.f("uq_generated_reports_period_report_scope_fmt_lang"),
        ),
    )
    op.create_index(
        "ix_plays_final_start",
        "plays",
        ["start", "station_id", "recording_id", "duration"],
        unique=False,
        postgresql_where=sa.text("status = 'final'"),
        sqlite_where=sa.text("status = 'final'"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_TRIGGER if postgres else _SQLITE_TRIGGER:
        op.execute(statement)
    # plays already there: their months have no rollup yet
    for statement in _PG_BACKFILL if postgres else _SQLITE_BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER plays_airtime_dirty ON plays")
        op.execute("DROP FUNCTION plays_mark_airtime_dirty()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER plays_airtime_dirty_{name}")
    op.drop_table("airtime_months")
    op.drop_table("airtime_rollups")
    op.drop_table("airtime_dirty_months")
    op.drop_index("ix_plays_final_start", table_name="plays")
    op.drop_table("generated_reports")
