"""reports: generated report records, covering index for airtime

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


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_index("ix_plays_final_start", table_name="plays")
    op.drop_table("generated_reports")
