"""unknown music clusters, their spans and the scan mark; where a recording came from; re-matching

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:00:00

- ``unknown_clusters``: unmatched music grouped by song (collector/recognizers/clusters.py),
  with its lookup's state and candidates and the analysts' decision;
- ``unknown_spans``: each stretch of a station's unmatched music, in its cluster;
- ``unknown_scans``: how far each station's unmatched audio was looked through;
- ``rematch_marks``: where re-matching the past audio for new recordings stands
  (collector/matching/rematch.py), and what its last pass changed;
- ``generated_reports.revision_note``: why a finished period's file was generated again
  (collector/reports/revisions.py);
- ``recordings.source`` (catalog, audd, acoustid, manual), ``release_date``, ``song_link``,
  ``provider_ids``: a recording learned from a named cluster keeps what the provider said.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import collector.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _utc() -> collector.db.base.UTCDateTime:
    return collector.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="catalog", nullable=False)
        )
        batch_op.add_column(sa.Column("release_date", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("song_link", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("provider_ids", sa.JSON(), nullable=True))
    op.create_table(
        "unknown_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("first_seen", _utc(), nullable=False),
        sa.Column("last_seen", _utc(), nullable=False),
        sa.Column("airtime_s", sa.Float(), nullable=False),
        sa.Column("spans", sa.Integer(), nullable=False),
        sa.Column("reference", sa.LargeBinary(), nullable=False),
        sa.Column("best_span_id", sa.Integer(), nullable=True),
        sa.Column("lookup", sa.String(length=16), nullable=False),
        sa.Column("lookup_detail", sa.Text(), nullable=True),
        sa.Column("retry_at", _utc(), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=True),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_unknown_clusters_recording_id_recordings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_clusters")),
    )
    op.create_index("ix_unknown_clusters_lookup_retry", "unknown_clusters", ["lookup", "retry_at"])
    op.create_table(
        "unknown_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("start", _utc(), nullable=False),
        sa.Column("end", _utc(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("offset_s", sa.Float(), nullable=False),
        sa.Column("rate_ppm", sa.Integer(), nullable=False),
        sa.Column("excerpt_start", _utc(), nullable=False),
        sa.Column("excerpt_end", _utc(), nullable=False),
        sa.Column("excerpt_request_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["unknown_clusters.id"],
            name=op.f("fk_unknown_spans_cluster_id_unknown_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["excerpt_request_id"],
            ["excerpt_requests.id"],
            name=op.f("fk_unknown_spans_excerpt_request_id_excerpt_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_unknown_spans_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_spans")),
    )
    op.create_index("ix_unknown_spans_station_start", "unknown_spans", ["station_id", "start"])
    op.create_index("ix_unknown_spans_cluster", "unknown_spans", ["cluster_id"])
    op.create_table(
        "unknown_scans",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("scanned_to", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_unknown_scans_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_unknown_scans")),
    )

    marks = op.create_table(
        "rematch_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=True),
        sa.Column("cursor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("requeued", sa.Integer(), nullable=False),
        sa.Column("first", _utc(), nullable=True),
        sa.Column("last", _utc(), nullable=True),
        sa.Column("last_first", _utc(), nullable=True),
        sa.Column("last_last", _utc(), nullable=True),
        sa.Column("last_finished_at", _utc(), nullable=True),
        sa.Column("last_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rematch_marks")),
    )
    # the audio already matched was matched against every recording there is now
    latest = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM recordings")).scalar()
    op.bulk_insert(marks, [{"id": 1, "done": int(latest or 0), "cursor": 0, "requeued": 0}])
    with op.batch_alter_table("generated_reports") as batch_op:
        batch_op.add_column(sa.Column("revision_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generated_reports") as batch_op:
        batch_op.drop_column("revision_note")
    op.drop_table("rematch_marks")
    op.drop_table("unknown_scans")
    op.drop_index("ix_unknown_spans_cluster", table_name="unknown_spans")
    op.drop_index("ix_unknown_spans_station_start", table_name="unknown_spans")
    op.drop_table("unknown_spans")
    op.drop_index("ix_unknown_clusters_lookup_retry", table_name="unknown_clusters")
    op.drop_table("unknown_clusters")
    with op.batch_alter_table("recordings") as batch_op:
        for name in ("provider_ids", "song_link", "release_date", "source"):
            batch_op.drop_column(name)
