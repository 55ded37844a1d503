"""Generated report files: what was produced, for which period and scope, and where it lies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, UTCDateTime, utcnow
from collector.plays.models import Play


class GeneratedReport(Base):
    """One file in report storage. ``scope`` is a station slug, or ``all`` for global reports."""

    __tablename__ = "generated_reports"
    __table_args__ = (UniqueConstraint("period", "report", "scope", "fmt", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), doc="e.g. 2026-01 or 2026-S1")
    report: Mapped[str] = mapped_column(String(20), doc="airtime, activity or playlist")
    scope: Mapped[str] = mapped_column(String(64), doc="station slug, or all")
    fmt: Mapped[str] = mapped_column(String(8), doc="xlsx or pdf")
    lang: Mapped[str] = mapped_column(String(2), default="fr")
    name: Mapped[str] = mapped_column(String(300), doc="key in report storage")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, doc="plays or lines the report holds")
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Airtime over a period reads only final plays' (start, station, recording, duration): this
# covering, partial index lets PostgreSQL answer from the index alone (an index-only scan) and
# SQLite from the index b-tree. Declared here, next to the reports that need it (migration 0003).
Index(
    "ix_plays_final_start",
    Play.start,
    Play.station_id,
    Play.recording_id,
    Play.duration,
    postgresql_where=Play.status == "final",
    sqlite_where=Play.status == "final",
)
