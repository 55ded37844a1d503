"""Unknown music the catalog cannot name, grouped by song: clusters of spans.

A *span* is one stretch of one station's unmatched audio that :mod:`collector.musicness` calls
music (at least ``recognizers.music_min_s``). Spans of the same song, on any station at any
time, are one *cluster*: its reference fingerprint is the first span's (grown by the later
spans that reach past it), and a new span joins the cluster whose reference it matches at a
consistent offset (:mod:`collector.recognizers.clustering`). A cluster keeps its airtime, its
stations (through its spans), when it was first and last heard, and its best span: the one
whose excerpt is asked for when a lookup needs audio.

A cluster's ``lookup`` says where naming it stands (:mod:`collector.recognizers.lookups`):

    waiting     no span long enough to look up yet
    acoustid    AcoustID is to be asked (the best span's fingerprint)
    excerpt     an excerpt is asked of the station's agent (``excerpt_request_id`` on the span)
    audd        the audio is here: AudD is to be asked
    named       a provider named it: ``recording_id`` is the learned recording
    not_found   neither AcoustID nor AudD knows it: a person can name it (the labelling queue)
    no_audio    every span's excerpt is gone (the agents no longer keep the audio)
    parked      a request could not succeed as sent (``lookup_detail`` says why)

``retry_at`` holds a lookup that must wait (a 429, the day's budget spent, a breaker open).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, UTCDateTime, utcnow

__all__ = ["LOOKUP_STATES", "UnknownCluster", "UnknownScan", "UnknownSpan"]

LOOKUP_STATES = ("waiting", "acoustid", "excerpt", "audd", "named", "not_found", "no_audio", "parked")


class UnknownCluster(Base):
    __tablename__ = "unknown_clusters"
    __table_args__ = (Index("ix_unknown_clusters_lookup_retry", "lookup", "retry_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    airtime_s: Mapped[float] = mapped_column(Float, default=0.0)
    spans: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[bytes] = mapped_column(
        LargeBinary, doc="shared.codec blob: the broadcast fingerprint every new span is matched to"
    )
    best_span_id: Mapped[int | None] = mapped_column(Integer)
    lookup: Mapped[str] = mapped_column(String(16), default="waiting")
    lookup_detail: Mapped[str | None] = mapped_column(Text)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON, doc="what the providers answered, every field kept"
    )
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="SET NULL"), doc="the learned recording, once named"
    )
    merged_into: Mapped[int | None] = mapped_column(Integer, doc="set when a person merged it into another")
    decision: Mapped[str | None] = mapped_column(String(16), doc="accepted, rejected or merged")
    decision_reason: Mapped[str | None] = mapped_column(String(32), doc="not_music or not_in_scope")
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UnknownSpan(Base):
    __tablename__ = "unknown_spans"
    __table_args__ = (
        Index("ix_unknown_spans_station_start", "station_id", "start"),
        Index("ix_unknown_spans_cluster", "cluster_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("unknown_clusters.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[float] = mapped_column(Float, doc="musicness: the mean window logit")
    offset_s: Mapped[float] = mapped_column(Float, doc="seconds into the cluster's reference at ``start``")
    rate_ppm: Mapped[int] = mapped_column(Integer, doc="the variant whose values were used")
    excerpt_start: Mapped[datetime] = mapped_column(UTCDateTime(), doc="the 12 s a lookup sends")
    excerpt_end: Mapped[datetime] = mapped_column(UTCDateTime())
    excerpt_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("excerpt_requests.id", ondelete="SET NULL")
    )
    fingerprint: Mapped[bytes] = mapped_column(
        LargeBinary, doc="shared.codec blob: the span's values at ``rate_ppm`` (AcoustID's lookup)"
    )

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


class UnknownScan(Base):
    """How far each station's unmatched audio has been looked through for music."""

    __tablename__ = "unknown_scans"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    scanned_to: Mapped[datetime] = mapped_column(UTCDateTime())
