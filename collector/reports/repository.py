"""Queries behind the reports and their generated files. Services compose these; nothing here commits.

Distribution reports (airtime, playlist) count **final** plays only, and none that a reviewer
flagged as a false positive (:func:`collector.plays.flags.exclusion`); the plays list shows
open and flagged plays too, marked. Aggregations run in the database: airtime is a
two-level ``GROUP BY`` (recording × station, then recording), over the plays (served by the
covering index ``ix_plays_final_start``), or read from the monthly rollup for a month's
airtime per recording (:mod:`collector.reports.rollup`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, exists, extract, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from collector.catalog.folding import fold
from collector.catalog.models import Recording
from collector.fleet.models import Station
from collector.ingest.models import Event, Segment
from collector.matching.models import SegmentMatch
from collector.plays import flags
from collector.plays.models import Play
from collector.reports.models import GeneratedReport

GROUPS = ("recording", "artist", "label", "station", "recording_station")


@dataclass
class PlayFilter:
    start: datetime | None = None
    end: datetime | None = None
    station_ids: Sequence[int] | None = None
    recording: str | None = None  # external id or ISRC
    title: str | None = None  # substring; accents and case ignored both ways (both backends)
    artist: str | None = None  # substring; accents and case ignored
    label: str | None = None  # substring; accents and case ignored
    status: str | None = None  # open, final, or None for both
    flagged: bool | None = None  # only flagged plays, none of them, or None for both
    conditions: list[ColumnElement[bool]] = field(default_factory=list)

    def where(self) -> list[ColumnElement[bool]]:
        out = list(self.conditions)
        if self.start is not None:
            out.append(Play.start >= self.start)
        if self.end is not None:
            out.append(Play.start < self.end)
        if self.station_ids is not None:
            out.append(Play.station_id.in_(list(self.station_ids)))
        if self.status is not None:
            out.append(Play.status == self.status)
        if self.flagged is not None:
            out.append(flags.flagged() if self.flagged else ~flags.flagged())
        if self.recording:
            out.append(or_(Recording.external_id == self.recording, Recording.isrc == self.recording.upper()))
        for column, words in (
            (Recording.title_search, self.title),
            (Recording.artist_search, self.artist),
            (Recording.label_search, self.label),
        ):
            if words:
                out.append(column.like(f"%{_escape(fold(words))}%", escape="\\"))
        return out

    @property
    def needs_recording(self) -> bool:
        return bool(self.recording or self.title or self.artist or self.label)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _plays_select(f: PlayFilter) -> Any:
    return (
        select(Play, Recording, Station.slug)
        .join(Recording, Recording.id == Play.recording_id)
        .join(Station, Station.id == Play.station_id)
        .where(*f.where())
    )


def count_plays(session: Session, f: PlayFilter) -> int:
    stmt = select(func.count()).select_from(Play)
    if f.needs_recording:
        stmt = stmt.join(Recording, Recording.id == Play.recording_id)
    return int(session.scalar(stmt.where(*f.where())) or 0)


def plays_page(session: Session, f: PlayFilter, offset: int, limit: int) -> list[tuple[Play, Recording, str]]:
    stmt = _plays_select(f).order_by(Play.start, Play.id).offset(offset).limit(limit)
    return [(p, r, slug) for p, r, slug in session.execute(stmt)]


def iter_plays(session: Session, f: PlayFilter, chunk: int = 5000) -> Iterator[tuple[Play, Recording, str]]:
    """Every matching play in time order, fetched in chunks (exports of a whole period)."""
    stmt = _plays_select(f).order_by(Play.start, Play.id).execution_options(yield_per=chunk)
    for row in session.execute(stmt):
        yield row[0], row[1], row[2]


def _epoch(column: Any) -> Any:
    """Seconds since 1970 as a float: 8 000 of them load several times faster than timestamps."""
    return cast(extract("epoch", column), Float)


def playlist_rows(
    session: Session, station_id: int, start: datetime, end: datetime
) -> tuple[list[tuple[float, float, float, int]], dict[int, tuple[Any, ...]]]:
    """One station's final plays in a period (start, end as UTC epoch seconds, duration,
    recording id), in time order, and the catalog columns of the recordings they name.

    SQLite gives whole seconds (``strftime('%s')``), PostgreSQL microseconds; reports show
    whole seconds either way.
    """
    where = (
        Play.station_id == station_id,
        Play.status == "final",
        Play.start >= start,
        Play.start < end,
        *flags.exclusion(session),
    )
    plays = session.execute(
        select(_epoch(Play.start), _epoch(Play.end), Play.duration, Play.recording_id)
        .where(*where)
        .order_by(Play.start, Play.id)
    )
    rows = [(float(s), float(e), float(d), int(r)) for s, e, d, r in plays]
    recs = session.execute(
        select(
            Recording.id,
            Recording.title,
            Recording.artist,
            Recording.isrc,
            Recording.iswc,
            Recording.label,
            Recording.composer,
            Recording.publisher,
            Recording.external_id,
        ).where(Recording.id.in_(select(Play.recording_id).where(*where)))
    )
    return rows, {r[0]: tuple(r[1:]) for r in recs}


def _per_recording_station(
    session: Session, start: datetime, end: datetime, station_ids: Sequence[int] | None
) -> Any:
    cond = [Play.status == "final", Play.start >= start, Play.start < end, *flags.exclusion(session)]
    if station_ids is not None:
        cond.append(Play.station_id.in_(list(station_ids)))
    return (
        select(
            Play.recording_id.label("recording_id"),
            Play.station_id.label("station_id"),
            func.count().label("plays"),
            func.sum(Play.duration).label("seconds"),
        )
        .where(and_(*cond))
        .group_by(Play.recording_id, Play.station_id)
        .subquery("rs")
    )


def airtime(
    session: Session,
    group: str,
    start: datetime,
    end: datetime,
    station_ids: Sequence[int] | None = None,
    offset: int = 0,
    limit: int | None = None,
    per_recording: Subquery | None = None,
) -> list[tuple[Any, ...]]:
    """Final-play airtime grouped by recording, artist, label, station or recording × station.

    Rows are (key columns..., plays, seconds, stations), largest airtime first, ties by key.
    With ``per_recording`` (the period is exactly a local month with a rollup:
    :func:`collector.reports.rollup.per_recording`), airtime per recording over every station
    is read from it instead of the plays.
    """
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    rs = _per_recording_station(session, start, end, station_ids)
    plays, seconds = func.sum(rs.c.plays), func.sum(rs.c.seconds)
    keys: list[Any]
    if group == "recording":
        if per_recording is not None and station_ids is None:
            inner = per_recording
        else:
            inner = (
                select(
                    rs.c.recording_id,
                    plays.label("plays"),
                    seconds.label("seconds"),
                    func.count().label("stations"),
                )
                .group_by(rs.c.recording_id)
                .subquery("r")
            )
        keys = [Recording.external_id, Recording.title, Recording.artist, Recording.isrc, Recording.label]
        keys += [Recording.composer]
        stmt = (
            select(*keys, inner.c.plays, inner.c.seconds, inner.c.stations)
            .join(Recording, Recording.id == inner.c.recording_id)
            .order_by(inner.c.seconds.desc(), Recording.external_id)
        )
    elif group in ("artist", "label"):
        col = Recording.artist if group == "artist" else func.coalesce(Recording.label, literal(""))
        key = col.label(group)
        stmt = (
            select(
                key,
                plays.label("plays"),
                seconds.label("seconds"),
                func.count(func.distinct(rs.c.station_id)).label("stations"),
                func.count(func.distinct(rs.c.recording_id)).label("recordings"),
            )
            .join(Recording, Recording.id == rs.c.recording_id)
            .group_by(key)
            .order_by(seconds.desc(), key)
        )
    elif group == "station":
        stmt = (
            select(
                Station.slug,
                Station.name,
                plays.label("plays"),
                seconds.label("seconds"),
                func.count().label("recordings"),
            )
            .join(Station, Station.id == rs.c.station_id)
            .group_by(Station.slug, Station.name)
            .order_by(Station.slug)
        )
    else:  # recording_station
        stmt = (
            select(
                Recording.external_id,
                Recording.title,
                Recording.artist,
                Recording.isrc,
                Station.slug,
                rs.c.plays,
                rs.c.seconds,
            )
            .join(Recording, Recording.id == rs.c.recording_id)
            .join(Station, Station.id == rs.c.station_id)
            .order_by(Recording.external_id, Station.slug)
        )
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [tuple(row) for row in session.execute(stmt)]


def _seconds_since_1970(session: Session, column: Any) -> Any:
    """A time column as epoch seconds, to the millisecond on SQLite (``strftime('%s')`` would
    give whole seconds), to the microsecond on PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return _epoch(column)


def _covered(
    session: Session, where: Sequence[ColumnElement[bool]], until: datetime
) -> dict[int, tuple[int, float]]:
    """Per station: how many segments match ``where`` and the seconds their union covers,
    up to ``until``.

    Segments of one station may overlap (after an agent's crash its next run repeats up to a
    burst of audio): each segment counts only the part past where the earlier ones reach,
    a running maximum over the station's segments by start (a window function, in the database).
    """
    start = _seconds_since_1970(session, Segment.start)
    end = start + Segment.duration
    runs = (
        select(
            Segment.station_id.label("station_id"),
            start.label("s"),
            end.label("e"),
            func.max(end)
            .over(partition_by=Segment.station_id, order_by=Segment.start, rows=(None, -1))
            .label("reach"),
        )
        .where(*where)
        .subquery("runs")
    )
    limit = (until - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    lo = case((runs.c.reach > runs.c.s, runs.c.reach), else_=runs.c.s)
    hi = case((runs.c.e > limit, literal(limit)), else_=runs.c.e)
    piece = case((hi > lo, hi - lo), else_=literal(0.0))
    stmt = select(runs.c.station_id, func.count(), func.coalesce(func.sum(piece), 0.0)).group_by(
        runs.c.station_id
    )
    return {sid: (int(n), float(secs)) for sid, n, secs in session.execute(stmt)}


def segment_totals(
    session: Session, start: datetime, end: datetime, station_ids: Sequence[int] | None
) -> dict[int, tuple[int, float]]:
    """Per station: segments starting in [start, end), and the seconds of audio they hold up to
    ``end`` (time heard twice counts once)."""
    where = [Segment.start >= start, Segment.start < end]
    if station_ids is not None:
        where.append(Segment.station_id.in_(list(station_ids)))
    return _covered(session, where, end)


def stations_on_air_since(session: Session, station_ids: Sequence[int] | None = None) -> dict[int, datetime]:
    """When each station began to exist for the reports: its creation, or its first audio when
    that is earlier (a station created to analyze old recordings, ``sodav-collector analyze``)."""
    first_audio = select(func.min(Segment.start)).where(Segment.station_id == Station.id).scalar_subquery()
    stmt = select(Station.id, Station.created_at, first_audio)
    if station_ids is not None:
        stmt = stmt.where(Station.id.in_(list(station_ids)))
    out: dict[int, datetime] = {}
    for sid, created, first in session.execute(stmt):
        out[sid] = min(created, first) if first is not None else created
    return out


def events_overlapping(
    session: Session, kinds: Sequence[str], start: datetime, end: datetime, station_ids: Sequence[int] | None
) -> list[tuple[int, str, datetime, datetime | None]]:
    stmt = select(Event.station_id, Event.kind, Event.start, Event.end).where(
        Event.kind.in_(list(kinds)), Event.start < end, or_(Event.end.is_(None), Event.end > start)
    )
    if station_ids is not None:
        stmt = stmt.where(Event.station_id.in_(list(station_ids)))
    return [(sid, kind, s, e) for sid, kind, s, e in session.execute(stmt.order_by(Event.start, Event.id))]


def _unidentified_where(
    start: datetime, end: datetime, station_ids: Sequence[int] | None, min_level_dbfs: float
) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [
        Segment.start >= start,
        Segment.start < end,
        Segment.status == "unmatched",
        ~exists().where(SegmentMatch.segment_id == Segment.id, SegmentMatch.segment_start == Segment.start),
        or_(Segment.level_dbfs.is_(None), Segment.level_dbfs >= min_level_dbfs),
    ]
    if station_ids is not None:
        cond.append(Segment.station_id.in_(list(station_ids)))
    return cond


def unidentified_totals(
    session: Session, start: datetime, end: datetime, station_ids: Sequence[int] | None, min_level_dbfs: float
) -> dict[int, tuple[int, float]]:
    """Per station: unidentified segments and the seconds they cover (time heard twice once)."""
    return _covered(session, _unidentified_where(start, end, station_ids, min_level_dbfs), end)


def unidentified_segments(
    session: Session, start: datetime, end: datetime, station_ids: Sequence[int] | None, min_level_dbfs: float
) -> Iterator[tuple[int, datetime, float, float | None]]:
    """(station_id, start, duration, level) of unidentified segments, by station then time."""
    stmt = (
        select(Segment.station_id, Segment.start, Segment.duration, Segment.level_dbfs)
        .where(*_unidentified_where(start, end, station_ids, min_level_dbfs))
        .order_by(Segment.station_id, Segment.start, Segment.id)
        .execution_options(yield_per=5000)
    )
    for row in session.execute(stmt):
        yield row[0], row[1], row[2], row[3]


def generated_report(
    session: Session, period: str, report: str, scope: str, fmt: str, lang: str
) -> GeneratedReport | None:
    return session.scalar(
        select(GeneratedReport).where(
            GeneratedReport.period == period,
            GeneratedReport.report == report,
            GeneratedReport.scope == scope,
            GeneratedReport.fmt == fmt,
            GeneratedReport.lang == lang,
        )
    )


def generated_kinds(session: Session, period: str, lang: str) -> set[tuple[str, str, str]]:
    """(report, scope, format) of the files generated for a period in a language."""
    rows = session.execute(
        select(GeneratedReport.report, GeneratedReport.scope, GeneratedReport.fmt).where(
            GeneratedReport.period == period, GeneratedReport.lang == lang
        )
    )
    return {(r, s, f) for r, s, f in rows}


def generated_reports(
    session: Session, period: str | None = None, report: str | None = None, scope: str | None = None
) -> list[GeneratedReport]:
    """Generated files, newest period first, optionally of one period, report or scope."""
    stmt = select(GeneratedReport).order_by(
        GeneratedReport.period.desc(), GeneratedReport.report, GeneratedReport.scope, GeneratedReport.fmt
    )
    if period:
        stmt = stmt.where(GeneratedReport.period == period)
    if report:
        stmt = stmt.where(GeneratedReport.report == report)
    if scope:
        stmt = stmt.where(GeneratedReport.scope == scope)
    return list(session.scalars(stmt))
