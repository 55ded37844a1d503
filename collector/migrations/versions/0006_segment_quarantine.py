"""segment quarantine: why the worker put a segment aside

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 05:00:00

A segment the worker cannot process (a time far outside its window, more fingerprint values
than its duration allows, a blob that does not decode, or a failure while its station's plays
are rebuilt) gets ``status = 'quarantined'`` and the reason here, instead of failing every
matching cycle after it. ``sodav-collector segments quarantined`` lists them.

Segments an older collector accepted with a start before 1970 or after 2100 are quarantined
here at once: one that was matched would break every later rebuild of its station's plays.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    segments = sa.table(
        "segments",
        sa.column("status", sa.String),
        sa.column("reason", sa.Text),
        sa.column("start", collector.db.base.UTCDateTime()),
    )
    low, high = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    op.execute(
        segments.update()
        .where(sa.or_(segments.c.start < low, segments.c.start > high))
        .values(status="quarantined", reason="start before 1970 or after 2100 (found by migration 0006)")
    )


def downgrade() -> None:
    op.execute("UPDATE segments SET status = 'new' WHERE status = 'quarantined'")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("reason")
