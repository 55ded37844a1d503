"""search columns folded without accents or case; an index of open plays

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:00:00

- ``recordings.title_search``, ``artist_search``, ``label_search``: the title, artist and label
  folded (lower case, no accents: collector/catalog/folding.py), filled here for the catalog
  already there and by the model on every write, so a search ignores accents and case the
  same way on PostgreSQL and SQLite.
- ``ix_plays_open``: the open plays by station, which the worker reads every 30 s to close
  the plays of stations whose audio stopped (partial: open plays are few).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from collector.catalog.folding import fold

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ("title", "artist", "label")


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(f"{name}_search", sa.Text(), nullable=True))
    recordings = sa.table(
        "recordings",
        sa.column("id", sa.Integer),
        *(sa.column(name, sa.Text) for name in _COLUMNS),
        *(sa.column(f"{name}_search", sa.Text) for name in _COLUMNS),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(recordings.c.id, *(recordings.c[name] for name in _COLUMNS))).all()
    if rows:
        update = (
            sa.update(recordings)
            .where(recordings.c.id == sa.bindparam("rid"))
            .values({f"{name}_search": sa.bindparam(f"f_{name}") for name in _COLUMNS})
        )
        bind.execute(
            update,
            [
                {
                    "rid": row[0],
                    **{
                        f"f_{name}": fold(v) if v is not None else None
                        for name, v in zip(_COLUMNS, row[1:], strict=True)
                    },
                }
                for row in rows
            ],
        )
    op.create_index(
        "ix_plays_open",
        "plays",
        ["station_id", "start"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_plays_open", table_name="plays")
    with op.batch_alter_table("recordings") as batch_op:
        for name in _COLUMNS:
            batch_op.drop_column(f"{name}_search")
