"""notifications: webhooks, report subscriptions, the delivery outbox, announced station states

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:43:52.201820
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.String(length=200), nullable=False),
        sa.Column("stations", sa.Text(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "notify_station_states",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("since", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("noticed_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_notify_station_states_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_notify_station_states")),
    )
    op.create_table(
        "report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("report", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("fmt", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_report_subscriptions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_subscriptions")),
        sa.UniqueConstraint(
            "email", "report", "scope", "fmt", name=op.f("uq_report_subscriptions_email_report_scope_fmt")
        ),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=True),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", collector.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", collector.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["report_subscriptions.id"],
            name=op.f("fk_notify_deliveries_subscription_id_report_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_notify_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
    )
    op.create_index("ix_notify_deliveries_created", "notify_deliveries", ["created_at"])
    op.create_index("ix_notify_deliveries_status_next", "notify_deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notify_deliveries_status_next", table_name="notify_deliveries")
    op.drop_index("ix_notify_deliveries_created", table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_table("report_subscriptions")
    op.drop_table("notify_station_states")
    op.drop_table("webhooks")
