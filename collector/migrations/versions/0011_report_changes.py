"""reports: a log of the months whose final plays or flags changed, and what was pruned of it,
so a cached report answer knows whether it still holds (collector/reports/cache.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# One row per changed final play (or flag) and UTC month of its start: only inserts, so the
# workers writing plays never wait on one another here. The reports' ticker folds the rows
# into report_generations; a period's generation (pruned + rows left) only ever grows.
# Flags log the months of their start a day early (a play they cover may begin before them)
# and of their end.
_PG = [
    """
    CREATE FUNCTION plays_log_report_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'DELETE' AND NEW.status = 'final' THEN
            INSERT INTO report_changes (month) VALUES (to_char(NEW.start AT TIME ZONE 'UTC', 'YYYY-MM'));
        END IF;
        IF TG_OP <> 'INSERT' AND OLD.status = 'final' THEN
            INSERT INTO report_changes (month) VALUES (to_char(OLD.start AT TIME ZONE 'UTC', 'YYYY-MM'));
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER plays_report_change AFTER INSERT OR UPDATE OR DELETE ON plays
    FOR EACH ROW EXECUTE FUNCTION plays_log_report_change()
    """,
    """
    CREATE FUNCTION play_flags_log_report_change() RETURNS trigger AS $$
    BEGIN
        INSERT INTO report_changes (month)
        SELECT DISTINCT m FROM (VALUES
            (to_char((NEW.start AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM')),
            (to_char(NEW.start AT TIME ZONE 'UTC', 'YYYY-MM')),
            (to_char(NEW."end" AT TIME ZONE 'UTC', 'YYYY-MM'))) AS months (m);
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER play_flags_report_change AFTER INSERT OR UPDATE ON play_flags
    FOR EACH ROW EXECUTE FUNCTION play_flags_log_report_change()
    """,
]
_FLAG_MONTHS = """
        INSERT INTO report_changes (month) SELECT DISTINCT m FROM (
            SELECT strftime('%Y-%m', NEW.start, '-1 day') AS m UNION SELECT strftime('%Y-%m', NEW.start)
            UNION SELECT strftime('%Y-%m', NEW."end"));
"""
_SQLITE = [
    """
    CREATE TRIGGER plays_report_change_insert AFTER INSERT ON plays WHEN NEW.status = 'final'
    BEGIN
        INSERT INTO report_changes (month) VALUES (strftime('%Y-%m', NEW.start));
    END
    """,
    """
    CREATE TRIGGER plays_report_change_update AFTER UPDATE ON plays
    WHEN NEW.status = 'final' OR OLD.status = 'final'
    BEGIN
        INSERT INTO report_changes (month)
        VALUES (strftime('%Y-%m', NEW.start)), (strftime('%Y-%m', OLD.start));
    END
    """,
    """
    CREATE TRIGGER plays_report_change_delete AFTER DELETE ON plays WHEN OLD.status = 'final'
    BEGIN
        INSERT INTO report_changes (month) VALUES (strftime('%Y-%m', OLD.start));
    END
    """,
    f"CREATE TRIGGER play_flags_report_change_insert AFTER INSERT ON play_flags BEGIN {_FLAG_MONTHS} END",
    f"CREATE TRIGGER play_flags_report_change_update AFTER UPDATE ON play_flags BEGIN {_FLAG_MONTHS} END",
]


def upgrade() -> None:
    op.create_table(
        "report_changes",
        sa.Column("id", collector.db.base.BigId, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_changes")),
    )
    op.create_index("ix_report_changes_month", "report_changes", ["month"])
    op.create_table(
        "report_generations",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("pruned", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_report_generations")),
    )
    for statement in _PG if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER play_flags_report_change ON play_flags")
        op.execute("DROP FUNCTION play_flags_log_report_change()")
        op.execute("DROP TRIGGER plays_report_change ON plays")
        op.execute("DROP FUNCTION plays_log_report_change()")
    else:
        for name in ("insert", "update"):
            op.execute(f"DROP TRIGGER play_flags_report_change_{name}")
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER plays_report_change_{name}")
    op.drop_table("report_generations")
    op.drop_index("ix_report_changes_month", table_name="report_changes")
    op.drop_table("report_changes")
