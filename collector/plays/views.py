"""How a play reads on the wire: one item of ``GET /api/v1/plays``, the same in the evidence, the
live ``play`` event and a station's ``last_play``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from collector.catalog.models import Recording
from collector.formats import iso_z
from collector.plays.flags import flag_json
from collector.plays.models import Play, PlayFlag


def play_json(
    play: Play, rec: Recording, slug: str, tz: ZoneInfo, flag: PlayFlag | None = None
) -> dict[str, Any]:
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
        "flag": flag_json(flag),
    }


def last_play_json(play: Play, rec: Recording) -> dict[str, Any]:
    """A station's latest play, as the overview shows it."""
    return {
        "id": play.id,
        "title": rec.title,
        "artist": rec.artist,
        "start": iso_z(play.start),
        "end": iso_z(play.end),
        "status": play.status,
    }
