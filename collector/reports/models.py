"""Generated report files and the monthly airtime rollups the reports read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from collector.db.base import Base, BigId, UTCDateTime, utcnow
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
    revision_note: Mapped[str | None] = mapped_column(
        Text, doc="why a finished period's file was generated again (collector/reports/revisions.py)"
    )


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
# The plays of a few recordings in a month, for the rollup's recordings changed since it was
# folded (collector/reports/rollup.py): their entries lie together, read from the index alone;
# ``end`` is there for the flags' overlap test (migration 0012).
Index(
    "ix_plays_final_recording",
    Play.recording_id,
    Play.start,
    Play.station_id,
    Play.duration,
    Play.end,
    postgresql_where=Play.status == "final",
    sqlite_where=Play.status == "final",
)


class AirtimeMonth(Base):
    """Final plays per local month and recording (see :mod:`collector.reports.rollup`)."""

    __tablename__ = "airtime_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True, doc="YYYY-MM, local time")
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), primary_key=True)
    plays: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    stations: Mapped[int] = mapped_column(Integer)


class AirtimeRollup(Base):
    """Which months the rollup holds, computed in which time zone and when."""

    __tablename__ = "airtime_rollups"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AirtimeChange(Base):
    """A final play of this recording starting at ``start`` (``end`` = ``start``) was inserted,
    changed or deleted, or a flag over ``start``..``end`` was set, cleared or deleted: one row per
    change, inserted by triggers (migration 0012), folded into the rollups by the worker
    (:func:`collector.reports.rollup.fold`)."""

    __tablename__ = "airtime_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recording_id: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportChange(Base):
    """A final play (or a flag) of this UTC month changed: one row per change, inserted by
    triggers (migration 0011), folded into :class:`ReportGeneration` by the reports' ticker."""

    __tablename__ = "report_changes"
    __table_args__ = (Index("ix_report_changes_month", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))


class ReportGeneration(Base):
    """How many changes of the month were folded away: with the rows left, a count that only grows."""

    __tablename__ = "report_generations"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    pruned: Mapped[int] = mapped_column(BigInteger, default=0)
