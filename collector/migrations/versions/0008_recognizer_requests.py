"""recognizers: requests by service, day and outcome; each service's breaker and rate slot

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0008"
down_revision = "0003"
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


def downgrade() -> None:
    op.drop_table("recognizer_requests")
    op.drop_table("recognizer_services")
