"""recognizers: requests by service, day and outcome; each service's breaker and rate slot;
excerpt requests to agents and their answers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    services = op.create_table(
        "recognizer_services",
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("breaker_open_until", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("breaker_reason", sa.Text(), nullable=True),
        sa.Column("breaker_opened_at", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_slot_at", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_recognizer_services")),
    )
    op.create_table(
        "recognizer_requests",
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service", "day", "outcome", name=op.f("pk_recognizer_requests")),
    )
    # the rows the gate locks before each request, so concurrent workers count as one
    op.bulk_insert(services, [{"service": "acoustid"}, {"service": "audd"}])
    op.create_table(
        "excerpt_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("start", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("requested_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("audio", sa.LargeBinary(), nullable=True),
        sa.Column("audio_start", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("audio_end", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gone", sa.String(length=16), nullable=True),
        sa.Column("kept_from", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("kept_to", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_excerpt_requests_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_excerpt_requests_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excerpt_requests")),
    )
    op.create_index(
        "ix_excerpt_requests_state_station", "excerpt_requests", ["state", "station_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_excerpt_requests_state_station", table_name="excerpt_requests")
    op.drop_table("excerpt_requests")
    op.drop_table("recognizer_requests")
    op.drop_table("recognizer_services")
