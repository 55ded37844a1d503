"""The plays list: every play with its recording, open ones marked, with the reviewers' flags,
for JSON, CSV and XLSX (a play's JSON is :func:`collector.plays.views.play_json`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.plays.flags import active_flags
from collector.plays.models import Play
from collector.plays.views import play_json
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
    Column("flagged", "text", 8),
]


def play_row(play: Play, rec: Recording, slug: str, tz: ZoneInfo, flagged: bool = False) -> tuple[Any, ...]:
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
        "yes" if flagged else "",
    )


def play_rows(
    session: Session, f: repo.PlayFilter, tz: ZoneInfo, chunk: int = 2000
) -> Iterator[tuple[Any, ...]]:
    batch: list[tuple[Play, Recording, str]] = []
    for row in repo.iter_plays(session, f):
        batch.append(row)
        if len(batch) >= chunk:
            yield from _rows(session, batch, tz)
            batch = []
    yield from _rows(session, batch, tz)


def _rows(
    session: Session, batch: list[tuple[Play, Recording, str]], tz: ZoneInfo
) -> Iterator[tuple[Any, ...]]:
    flagged = active_flags(session, [p for p, _r, _s in batch])
    for p, r, slug in batch:
        yield play_row(p, r, slug, tz, p.id in flagged)


def page_json(
    session: Session, rows: list[tuple[Play, Recording, str]], tz: ZoneInfo
) -> list[dict[str, Any]]:
    """One page of ``GET /api/v1/plays``, each play with its active flag."""
    flags = active_flags(session, [p for p, _r, _s in rows])
    return [play_json(p, r, slug, tz, flags.get(p.id)) for p, r, slug in rows]
