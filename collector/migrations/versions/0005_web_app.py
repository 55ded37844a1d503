"""web app: reviewers' play flags (and the rollup trigger), the admin audit log, admin-pinned
station rates, an index for the live feed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# A flag set or cleared changes what the airtime of its month counts (flagged plays are left
# out): mark the month dirty as migration 0003's trigger does for a play, with the same
# margin (the UTC months of start - 14 h and start + 14 h hold the local month in any zone).
_PG_TRIGGER = [
    """
    CREATE FUNCTION play_flags_mark_airtime_dirty() RETURNS trigger AS $$
    BEGIN
        INSERT INTO airtime_dirty_months (month)
        VALUES (to_char((NEW.start AT TIME ZONE 'UTC') - interval '14 hours', 'YYYY-MM')),
               (to_char((NEW.start AT TIME ZONE 'UTC') + interval '14 hours', 'YYYY-MM'))
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER play_flags_airtime_dirty AFTER INSERT OR UPDATE ON play_flags
    FOR EACH ROW EXECUTE FUNCTION play_flags_mark_airtime_dirty()
    """,
]
_SQLITE_TRIGGER = [
    """
    CREATE TRIGGER play_flags_airtime_dirty_insert AFTER INSERT ON play_flags
    BEGIN
        INSERT OR IGNORE INTO airtime_dirty_months (month) VALUES
            (strftime('%Y-%m', NEW.start, '-14 hours')), (strftime('%Y-%m', NEW.start, '+14 hours'));
    END
    """,
    """
    CREATE TRIGGER play_flags_airtime_dirty_update AFTER UPDATE ON play_flags
    BEGIN
        INSERT OR IGNORE INTO airtime_dirty_months (month) VALUES
            (strftime('%Y-%m', NEW.start, '-14 hours')), (strftime('%Y-%m', NEW.start, '+14 hours'));
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "play_flags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("play_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("start", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flagged_by", sa.String(length=100), nullable=False),
        sa.Column("flagged_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_by", sa.String(length=100), nullable=True),
        sa.Column("cleared_at", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_play_flags_recording_id_recordings")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_play_flags_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_play_flags")),
    )
    op.create_index(
        "ix_play_flags_station_recording", "play_flags", ["station_id", "recording_id"], unique=False
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("rate_source", sa.String(length=10), nullable=True))
    # a rate already pinned was learned (admins could not pin one before)
    op.execute("UPDATE stations SET rate_source = 'learned' WHERE rate_ppm IS NOT NULL")
    op.create_index("ix_plays_updated_at", "plays", ["updated_at"], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_TRIGGER if postgres else _SQLITE_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER play_flags_airtime_dirty ON play_flags")
        op.execute("DROP FUNCTION play_flags_mark_airtime_dirty()")
    else:
        for name in ("insert", "update"):
            op.execute(f"DROP TRIGGER play_flags_airtime_dirty_{name}")
    op.drop_index("ix_plays_updated_at", table_name="plays")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("rate_source")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_play_flags_station_recording", table_name="play_flags")
    op.drop_table("play_flags")
