"""One station's day, for the station page's time axis: its plays, the audio nothing named, its
outages and silences, and the ICY titles the stream announced.

The day is local (the collector's zone); every item is clipped to it. Unknown audio is the
station's unmatched segments at or above the silence level, merged into stretches the way the
unidentified-music report merges them. Time covered by nothing is "no audio received".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.fleet.models import Station
from collector.formats import iso_z
from collector.ingest.models import SILENCE_DBFS
from collector.plays import flags, repository

STRETCH_GAP = timedelta(seconds=2)  # unmatched segments closer than this are one stretch


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> tuple[str, str] | None:
    s, e = max(start, lo), min(end, hi)
    return (iso_z(s), iso_z(e)) if e > s else None


def stretches(segments: Iterable[tuple[datetime, float]]) -> list[tuple[datetime, datetime]]:
    """Consecutive segments (start, seconds) merged into (start, end) stretches."""
    out: list[tuple[datetime, datetime]] = []
    for start, duration in segments:
        end = start + timedelta(seconds=duration)
        if out and start - out[-1][1] <= STRETCH_GAP:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def title_spans(
    session: Session, station_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime | None, str | None]]:
    """The ICY titles on air during [start, end): (start, end, title); a title ends where the
    next one starts, and the one still on air has no end."""
    titles = repository.titles_around(session, station_id, start, end)
    following = repository.next_title_start(session, station_id, titles[-1].start) if titles else None
    out = []
    for i, ev in enumerate(titles):
        title_end = titles[i + 1].start if i + 1 < len(titles) else following
        if title_end is None or title_end > start:
            out.append((ev.start, title_end, ev.title))
    return out


def title_json(
    start: datetime, end: datetime | None, title: str | None, not_before: datetime | None = None
) -> dict[str, Any]:
    shown = max(start, not_before) if not_before is not None else start
    return {"start": iso_z(shown), "end": iso_z(end) if end is not None else None, "title": title}


def timeline(
    session: Session, station: Station, day: date, tz: ZoneInfo, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    start, end = day_bounds(day, tz)
    until = min(max(now, start), end)  # the elapsed part of the day
    items: list[tuple[str, dict[str, Any]]] = []

    def add(kind: str, s: datetime, e: datetime, **extra: Any) -> None:
        clipped = _clip(s, e, start, end)
        if clipped is not None:
            items.append((clipped[0], {"kind": kind, "start": clipped[0], "end": clipped[1], **extra}))

    plays = repository.plays_with_recordings(session, station.id, start, end)
    flagged = flags.active_flags(session, [p for p, _r in plays])
    for play, rec in plays:
        if play.id not in flagged:
            add("play", play.start, play.end, play_id=play.id, title=rec.title, artist=rec.artist)
    unmatched = repository.unmatched_segments(session, station.id, start, end, SILENCE_DBFS)
    for s, e in stretches(unmatched):
        add("unknown", s, e)
    for ev in repository.events_between(session, station.id, ("outage", "silence"), start, end):
        extra = {"reason": ev.reason} if ev.kind == "outage" else {}
        add(ev.kind, ev.start, ev.end or until, **extra)
    items.sort(key=lambda item: item[0])

    titles = [title_json(s, e, t, start) for s, e, t in title_spans(session, station.id, start, end)]

    monitored = min(repository.segment_seconds(session, station.id, start, end), 86400.0)
    elapsed = (until - start).total_seconds()
    return {
        "station": station.slug,
        "name": station.name,
        "date": day.isoformat(),
        "timezone": tz.key,
        "start": iso_z(start),
        "end": iso_z(end),
        "monitored_seconds": round(min(monitored, elapsed) if elapsed > 0 else 0.0, 1),
        "monitored_share": round(100.0 * min(monitored, elapsed) / elapsed, 1) if elapsed > 0 else 0.0,
        "items": [item for _key, item in items],
        "titles": titles,
    }
