"""segment quarantine: why the worker put a segment aside

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07 05:00:00

A segment the worker cannot process (a time far outside its window, more fingerprint values
than its duration allows, a blob that does not decode, or a failure while its station's plays
are rebuilt) gets ``status = 'quarantined'`` and the reason here, instead of failing every
matching cycle after it. ``sodav-collector segments quarantined`` lists them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE segments SET status = 'new' WHERE status = 'quarantined'")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("reason")
