"""Reports as tables: plays, relevé de diffusion, airtime, station activity, unidentified music.

Every function returns :class:`~collector.reports.exports.ReportTable` objects that any export
format renders. Times are stored in UTC and shown in ``settings.timezone`` (Africa/Dakar); each
report says which zone its times are in. Services never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.plays.models import Play
from collector.reports import repository as repo
from collector.reports import rollup
from collector.reports.exports import Column, ReportMeta, ReportTable
from collector.reports.labels import colon, label
from collector.reports.periods import Period

# Below this level a segment is silence, not unidentified music (the agent's default threshold).
SILENCE_DBFS = -50.0
# Unidentified segments closer than this are one stretch.
RUN_GAP = timedelta(seconds=2)


class ReportError(Exception):
    """A request the reports cannot answer (unknown station, bad group); the message says why."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def resolve_stations(session: Session, slugs: Sequence[str] | None) -> list[int] | None:
    """Station ids for the given slugs (None: every station); unknown slugs are an error."""
    if not slugs:
        return None
    found = repo.station_ids(session, slugs)
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise ReportError(f"unknown station(s): {', '.join(missing)}; see GET /api/v1/stations/status", 404)
    return [found[s] for s in slugs]


def zone_line(tz: ZoneInfo, at: datetime, lang: str) -> str:
    offset = at.astimezone(tz).strftime("%z")
    return f"{label('timezone', lang)}{colon(lang)}{tz.key} (UTC{offset[:3]}:{offset[3:]})"


def meta_for(
    title_key: str, period: Period, lang: str, extra: Sequence[str] = (), final: bool = True
) -> ReportMeta:
    lines = [f"{label('period', lang)}{colon(lang)}{period.label} ({period.first_day} – {period.last_day})"]
    lines += list(extra)
    lines.append(zone_line(period.tz, period.start, lang))
    lines.append(label("final_only" if final else "open_flagged", lang))
    return ReportMeta(
        title=f"{label(title_key, lang)} — {period.label}", lines=lines, stamp=period.end.astimezone(UTC)
    )


# ---- plays ---------------------------------------------------------------------------------------

PLAY_COLUMNS = [
    Column("id", "int", 10),
    Column("station", "text", 12),
    Column("date", "date", 11),
    Column("start", "time", 9),
    Column("end", "time", 9),
    Column("duration", "seconds", 10),
    Column("title", "text", 30),
    Column("artist", "text", 24),
    Column("isrc", "text", 14),
    Column("label", "text", 18),
    Column("composer", "text", 20),
    Column("external_id", "text", 14),
    Column("status", "text", 7),
    Column("confidence", "float", 9),
]


def play_row(play: Play, rec: Recording, slug: str, tz: ZoneInfo) -> tuple[Any, ...]:
    start, end = play.start.astimezone(tz), play.end.astimezone(tz)
    return (
        play.id,
        slug,
        start.date(),
        start.time().replace(microsecond=0, tzinfo=None),
        end.time().replace(microsecond=0, tzinfo=None),
        play.duration,
        rec.title,
        rec.artist,
        rec.isrc,
        rec.label,
        rec.composer,
        rec.external_id,
        play.status,
        play.confidence,
    )


def play_json(play: Play, rec: Recording, slug: str, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": play.id,
        "station": slug,
        "start": play.start.astimezone(tz).isoformat(),
        "end": play.end.astimezone(tz).isoformat(),
        "start_utc": play.start.isoformat().replace("+00:00", "Z"),
        "end_utc": play.end.isoformat().replace("+00:00", "Z"),
        "duration": round(play.duration, 3),
        "title": rec.title,
        "artist": rec.artist,
        "isrc": rec.isrc,
        "label": rec.label,
        "composer": rec.composer,
        "external_id": rec.external_id,
        "status": play.status,
        "final": play.status == "final",
        "confidence": round(play.confidence, 4),
    }


def play_rows(session: Session, f: repo.PlayFilter, tz: ZoneInfo) -> Iterator[tuple[Any, ...]]:
    for p, r, slug in repo.iter_plays(session, f):
        yield play_row(p, r, slug, tz)


# ---- relevé de diffusion ------------------------------------------------------------------------

PLAYLIST_COLUMNS = [
    Column("date", "date", 11),
    Column("start", "time", 9),
    Column("end", "time", 9),
    Column("duration", "seconds", 10),
    Column("title", "text", 30),
    Column("artist", "text", 24),
    Column("isrc", "text", 14),
    Column("label", "text", 18),
    Column("composer", "text", 22),
]


def playlist(
    session: Session, station_slug: str, period: Period, lang: str
) -> tuple[ReportTable, ReportMeta]:
    ids = resolve_stations(session, [station_slug])
    assert ids is not None
    station = repo.stations(session, ids)[0]
    tz = period.tz
    rows = []
    total = 0.0
    plays, recordings = repo.playlist_rows(session, ids[0], period.start, period.end)
    for start, end, duration, rid in plays:
        s = datetime.fromtimestamp(int(start), tz)
        e = datetime.fromtimestamp(int(end), tz)
        title, artist, isrc, lab, composer, _ext = recordings[rid]
        rows.append(
            (
                s.date(),
                s.time(),
                e.time(),
                duration,
                title,
                artist,
                isrc,
                lab,
                composer,
            )
        )
        total += duration
    totals: tuple[Any, ...] = (label("total", lang), None, None, total)
    totals += (f"{len(rows)} {label('plays', lang).lower()}",) + (None,) * (len(PLAYLIST_COLUMNS) - 5)
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
    if month is not None and not rollup.is_fresh(session, month, period.tz.key):
        month = None  # being changed: sum the plays
    rows = repo.airtime(session, group, period.start, period.end, station_ids, offset, limit, month)
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
        sum(r[2] for r in by_station.rows),
        sum(r[3] for r in by_station.rows),
        None,
    )
    return tables, meta_for("t_airtime_recording", period, lang)


# ---- station activity ---------------------------------------------------------------------------

ACTIVITY_COLUMNS = [
    Column("station", "text", 14),
    Column("station_name", "text", 28),
    Column("period_hours", "hours", 12),
    Column("monitored_hours", "hours", 12),
    Column("monitored_share", "percent", 12),
    Column("outages", "int", 10),
    Column("outage_hours", "hours", 12),
    Column("silences", "int", 10),
    Column("silence_hours", "hours", 12),
]


def activity_table(
    session: Session, period: Period, station_ids: Sequence[int] | None, now: datetime | None = None
) -> ReportTable:
    """Monitored time from segment durations; outages and silences from agent events.

    A period still running counts only its elapsed part; an event still open ends now.
    Monitored time is capped at the period (two agents on one station would overlap).
    """
    now = now or datetime.now(UTC)
    start, end = period.start, min(period.end, max(now, period.start))
    span = (end - start).total_seconds()
    segs = repo.segment_totals(session, start, end, station_ids)
    events: dict[tuple[int, str], list[float]] = {}
    for sid, kind, ev_start, ev_end in repo.events_overlapping(
        session, ("outage", "silence"), start, end, station_ids
    ):
        lo, hi = max(ev_start, start), min(ev_end or end, end)
        acc = events.setdefault((sid, kind), [0, 0.0])
        acc[0] += 1
        acc[1] += max((hi - lo).total_seconds(), 0.0)
    rows = []
    for st in repo.stations(session, station_ids):
        monitored = min(segs.get(st.id, (0, 0.0))[1], span)
        out = events.get((st.id, "outage"), [0, 0.0])
        sil = events.get((st.id, "silence"), [0, 0.0])
        rows.append(
            (
                st.slug,
                st.name,
                span / 3600,
                monitored / 3600,
                100.0 * monitored / span if span else 0.0,
                int(out[0]),
                out[1] / 3600,
                int(sil[0]),
                sil[1] / 3600,
            )
        )
    return ReportTable("t_activity", ACTIVITY_COLUMNS, rows)


# ---- unidentified music -------------------------------------------------------------------------

UNIDENTIFIED_COLUMNS = [
    Column("station", "text", 14),
    Column("station_name", "text", 28),
    Column("segments", "int", 10),
    Column("unidentified_hours", "hours", 14),
]
RUN_COLUMNS = [
    Column("station", "text", 14),
    Column("date", "date", 11),
    Column("start", "time", 9),
    Column("end", "time", 9),
    Column("duration", "seconds", 10),
    Column("segments", "int", 10),
    Column("level_dbfs", "float", 12),
]


def unidentified_tables(
    session: Session,
    period: Period,
    station_ids: Sequence[int] | None,
    min_level_dbfs: float = SILENCE_DBFS,
    max_runs: int | None = 1000,
) -> tuple[ReportTable, ReportTable]:
    """Segments that sound like music (level at or above silence) but matched nothing.

    The summary counts them per station; the stretches merge consecutive such segments, the
    unit a later fallback recognizer (AcoustID, AudD) would be asked about.
    """
    totals = repo.unidentified_totals(session, period.start, period.end, station_ids, min_level_dbfs)
    names = {st.id: st for st in repo.stations(session, station_ids)}
    summary = [
        (names[sid].slug, names[sid].name, n, secs / 3600)
        for sid, (n, secs) in sorted(totals.items())
        if sid in names
    ]
    summary.sort(key=lambda r: r[0])
    runs = _runs(
        repo.unidentified_segments(session, period.start, period.end, station_ids, min_level_dbfs),
        {sid: st.slug for sid, st in names.items()},
        period.tz,
        max_runs,
    )
    return ReportTable("t_unidentified", UNIDENTIFIED_COLUMNS, summary), ReportTable(
        "t_unidentified_runs", RUN_COLUMNS, runs
    )


def _runs(
    segments: Iterable[tuple[int, datetime, float, float | None]],
    slugs: dict[int, str],
    tz: ZoneInfo,
    max_runs: int | None,
) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    cur: list[Any] | None = None  # station, start, end, n, level sum, level count

    def flush() -> None:
        if cur is None:
            return
        s, e = cur[1].astimezone(tz), cur[2].astimezone(tz)
        level = cur[4] / cur[5] if cur[5] else None
        out.append(
            (
                slugs.get(cur[0], str(cur[0])),
                s.date(),
                s.time().replace(microsecond=0, tzinfo=None),
                e.time().replace(microsecond=0, tzinfo=None),
                (cur[2] - cur[1]).total_seconds(),
                cur[3],
                level,
            )
        )

    for sid, start, duration, level in segments:
        end = start + timedelta(seconds=duration)
        if cur is not None and cur[0] == sid and start - cur[2] <= RUN_GAP:
            cur[2] = max(cur[2], end)
            cur[3] += 1
        else:
            flush()
            if max_runs is not None and len(out) >= max_runs:
                return out
            cur = [sid, start, end, 1, 0.0, 0]
        if level is not None:
            cur[4] += level
            cur[5] += 1
    flush()
    return out
