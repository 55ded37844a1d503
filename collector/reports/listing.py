"""The plays list: every play with its recording, open ones flagged, for JSON, CSV and XLSX."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.formats import iso_z
from collector.plays.models import Play
from collector.reports import repository as repo
from collector.reports.exports import Column

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
    Column("iswc", "text", 14),
    Column("label", "text", 18),
    Column("composer", "text", 20),
    Column("publisher", "text", 18),
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
        rec.iswc,
        rec.label,
        rec.composer,
        rec.publisher,
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
        "start_utc": iso_z(play.start),
        "end_utc": iso_z(play.end),
        "duration": round(play.duration, 3),
        "title": rec.title,
        "artist": rec.artist,
        "isrc": rec.isrc,
        "iswc": rec.iswc,
        "label": rec.label,
        "composer": rec.composer,
        "publisher": rec.publisher,
        "external_id": rec.external_id,
        "status": play.status,
        "final": play.status == "final",
        "confidence": round(play.confidence, 4),
    }


def play_rows(session: Session, f: repo.PlayFilter, tz: ZoneInfo) -> Iterator[tuple[Any, ...]]:
    for p, r, slug in repo.iter_plays(session, f):
        yield play_row(p, r, slug, tz)
