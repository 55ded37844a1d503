"""The distribution reports, over final plays: the relevé de diffusion (one station's plays) and
airtime per recording, artist, label, station and recording × station (the distribution basis)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from collector.fleet import repository as fleet_repository
from collector.reports import repository as repo
from collector.reports import rollup
from collector.reports.exports import Column, ReportMeta, ReportTable, Total
from collector.reports.labels import colon, label
from collector.reports.periods import Period
from collector.reports.service import ReportError, meta_for, resolve_stations

# ---- relevé de diffusion ------------------------------------------------------------------------

PLAYLIST_COLUMNS = [
    Column("date", "date", 10),
    Column("start", "time", 9),
    Column("end", "time", 9),
    Column("duration", "seconds", 10),
    Column("external_id", "text", 11),
    Column("title", "text", 23),
    Column("artist", "text", 19),
    Column("composer", "text", 17),
    Column("publisher", "text", 16),
    Column("isrc", "text", 13),
    Column("iswc", "text", 15),
    Column("label", "text", 14),
]


def playlist(
    session: Session, station_slug: str, period: Period, lang: str
) -> tuple[ReportTable, ReportMeta]:
    """The relevé de diffusion: each final play with what a royalty analyst files (catalog
    reference, ISRC, ISWC, composer, publisher), a total duration and a count of plays."""
    ids = resolve_stations(session, [station_slug])
    assert ids is not None
    station = fleet_repository.stations(session, ids)[0]
    tz = period.tz
    rows = []
    total = 0.0
    plays, recordings = repo.playlist_rows(session, ids[0], period.start, period.end)
    for start, end, duration, rid in plays:
        s = datetime.fromtimestamp(int(start), tz)
        e = datetime.fromtimestamp(int(end), tz)
        title, artist, isrc, iswc, lab, composer, publisher, ext = recordings[rid]
        rows.append(
            (s.date(), s.time(), e.time(), duration, ext, title, artist, composer, publisher, isrc, iswc, lab)
        )
        total += duration
    totals: tuple[Any, ...] = (label("total", lang), None, None, Total("SUM", total))
    totals += (Total("COUNTA", len(rows), label("plays", lang).lower()),)
    totals += (None,) * (len(PLAYLIST_COLUMNS) - len(totals))
    table = ReportTable("t_playlist", PLAYLIST_COLUMNS, rows, totals)
    extra = [f"{label('station', lang)}{colon(lang)}{station.name} ({station.slug})"]
    meta = meta_for("t_playlist", period, lang, extra)
    meta.title = f"{label('t_playlist', lang)} — {station.name} — {period.label}"
    return table, meta


# ---- airtime ------------------------------------------------------------------------------------

AIRTIME_COLUMNS: dict[str, list[Column]] = {
    "recording": [
        Column("external_id", "text", 14),
        Column("title", "text", 30),
        Column("artist", "text", 24),
        Column("isrc", "text", 14),
        Column("label", "text", 18),
        Column("composer", "text", 20),
        Column("plays", "int", 10),
        Column("seconds", "seconds", 12),
        Column("stations", "int", 9),
    ],
    "artist": [
        Column("artist", "text", 30),
        Column("plays", "int", 10),
        Column("seconds", "seconds", 12),
        Column("stations", "int", 9),
        Column("recordings", "int", 12),
    ],
    "label": [
        Column("label", "text", 30),
        Column("plays", "int", 10),
        Column("seconds", "seconds", 12),
        Column("stations", "int", 9),
        Column("recordings", "int", 12),
    ],
    "station": [
        Column("station", "text", 14),
        Column("station_name", "text", 30),
        Column("plays", "int", 10),
        Column("seconds", "seconds", 12),
        Column("recordings", "int", 12),
    ],
    "recording_station": [
        Column("external_id", "text", 14),
        Column("title", "text", 30),
        Column("artist", "text", 24),
        Column("isrc", "text", 14),
        Column("station", "text", 14),
        Column("plays", "int", 10),
        Column("seconds", "seconds", 12),
    ],
}


def airtime_table(
    session: Session,
    group: str,
    period: Period,
    station_ids: Sequence[int] | None,
    offset: int = 0,
    limit: int | None = None,
) -> ReportTable:
    if group not in AIRTIME_COLUMNS:
        raise ReportError(f"group must be one of {', '.join(AIRTIME_COLUMNS)}")
    month = rollup.month_of(period) if group == "recording" and station_ids is None else None
    inner = None
    if month is not None and rollup.is_current(session, month, period.tz.key):
        inner = rollup.per_recording(session, month, period)  # None: sum the plays
    rows = repo.airtime(session, group, period.start, period.end, station_ids, offset, limit, inner)
    return ReportTable(f"t_airtime_{group}", AIRTIME_COLUMNS[group], rows)


def airtime_report(
    session: Session, period: Period, station_ids: Sequence[int] | None, lang: str
) -> tuple[list[ReportTable], ReportMeta]:
    """The distribution basis: one table per grouping, with totals on the per-station table."""
    tables = [airtime_table(session, g, period, station_ids) for g in AIRTIME_COLUMNS]
    by_station = tables[3]
    by_station.totals = (
        label("total", lang),
        None,
        Total("SUM", sum(r[2] for r in by_station.rows)),
        Total("SUM", sum(r[3] for r in by_station.rows)),
        None,
    )
    return tables, meta_for("t_airtime_recording", period, lang)
