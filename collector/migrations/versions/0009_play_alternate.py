"""plays: the near-duplicate version a play also matched (its alternate)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plays", sa.Column("alternate_recording_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.drop_column("alternate_recording_id")
