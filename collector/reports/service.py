"""What every report shares: its stations, its header lines, its errors.

The reports themselves, by family: :mod:`~collector.reports.listing` (the plays list),
:mod:`~collector.reports.distribution` (relevé de diffusion, airtime: what the society
distributes on), :mod:`~collector.reports.monitoring` (station activity, unidentified music).
Each returns :class:`~collector.reports.exports.ReportTable` objects that any export format
renders. Times are stored in UTC and shown in ``settings.timezone`` (Africa/Dakar); each report
says which zone its times are in. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.errors import InvalidRequest, NotFound
from collector.fleet import repository as fleet_repository
from collector.reports.exports import ReportMeta
from collector.reports.labels import colon, label
from collector.reports.periods import Period


class ReportError(InvalidRequest):
    """A request the reports cannot answer (unknown group or report); the message says why."""


class StationNotFound(NotFound):
    """A report asked for a station that does not exist."""


def resolve_stations(session: Session, slugs: Sequence[str] | None) -> list[int] | None:
    """Station ids for the given slugs (None: every station); unknown slugs are an error."""
    if not slugs:
        return None
    found = fleet_repository.station_ids(session, slugs)
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise StationNotFound(f"unknown station(s): {', '.join(missing)}; see GET /api/v1/stations/status")
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
