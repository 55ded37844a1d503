"""The monitoring reports: station activity (monitored time, outages, silences) and music that
matched nothing (the stretches a fallback recognizer would be asked about)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.fleet import repository as fleet_repository
from collector.ingest.models import SILENCE_DBFS
from collector.reports import repository as repo
from collector.reports.exports import Column, ReportTable
from collector.reports.periods import Period

# Unidentified segments closer than this are one stretch.
RUN_GAP = timedelta(seconds=2)

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
    """Monitored time from the segments (each second once); outages and silences from events.

    A period still running counts only its elapsed part; an event still open ends now. A
    station counts from when it began to exist (its creation, or its first audio if earlier):
    a station created during the period counts its part of it, one created after is not listed.
    """
    now = now or datetime.now(UTC)
    start, end = period.start, min(period.end, max(now, period.start))
    segs = repo.segment_totals(session, start, end, station_ids)
    since = repo.stations_on_air_since(session, station_ids)
    events: dict[tuple[int, str], list[float]] = {}
    for sid, kind, ev_start, ev_end in repo.events_overlapping(
        session, ("outage", "silence"), start, end, station_ids
    ):
        lo, hi = max(ev_start, start), min(ev_end or end, end)
        acc = events.setdefault((sid, kind), [0, 0.0])
        acc[0] += 1
        acc[1] += max((hi - lo).total_seconds(), 0.0)
    rows = []
    for st in fleet_repository.stations(session, station_ids):
        begin = max(start, since[st.id])
        if begin >= end:
            continue  # the station did not exist yet
        span = max((end - begin).total_seconds(), 0.0)
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
    names = {st.id: st for st in fleet_repository.stations(session, station_ids)}
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
