"""Report periods: a month (``2026-01``), a semester (``2026-S1``), a year (``2026``), a day
(``2026-01-15``) or a range of days (``2026-01-01..2026-01-15``, both days included).

Periods are calendar periods in the society's time zone (``settings.timezone``, Africa/Dakar):
a play belongs to the period its start falls in. Bounds are handed back in UTC, which is how
the database stores every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.errors import InvalidRequest

__all__ = ["Period", "PeriodError", "parse_period", "previous_month", "previous_semester", "zone"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SEMESTER = re.compile(r"^(\d{4})-S([12])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_YEARS = re.compile(r"(?:^|\.\.)(\d{4})")
MIN_YEAR, MAX_YEAR = 1970, 2999  # reports beyond these years make no sense, and year 9999 has no end


class PeriodError(InvalidRequest):
    """A period string that does not follow one of the documented forms."""


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # month, semester, year, day, range
    first_day: date
    last_day: date  # included
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        """First instant, in UTC."""
        return datetime.combine(self.first_day, time(0), self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """First instant after the period, in UTC."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), self.tz).astimezone(UTC)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(f"unknown time zone {name!r}: use an IANA name such as Africa/Dakar") from exc


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"{text!r} is not a date: use YYYY-MM-DD") from exc


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str, tz_name: str = "Africa/Dakar") -> Period:
    """Parse a period string; :class:`PeriodError` says which forms are accepted."""
    tz = zone(tz_name)
    text = text.strip()
    for year in _YEARS.findall(text):
        if not MIN_YEAR <= int(year) <= MAX_YEAR:
            raise PeriodError(f"{text!r}: years {MIN_YEAR} to {MAX_YEAR} only")
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r}: month must be 01 to 12")
        return Period(text, "month", date(year, month, 1), _month_end(year, month), tz)
    if m := _SEMESTER.match(text):
        year, half = int(m[1]), int(m[2])
        first = date(year, 1 if half == 1 else 7, 1)
        last = date(year, 6, 30) if half == 1 else date(year, 12, 31)
        return Period(f"{year}-S{half}", "semester", first, last, tz)
    if m := _YEAR.match(text):
        year = int(m[1])
        return Period(text, "year", date(year, 1, 1), date(year, 12, 31), tz)
    if m := _DAY.match(text):
        day = _day(m[1])
        return Period(text, "day", day, day, tz)
    if m := _RANGE.match(text):
        first, last = _day(m[1]), _day(m[2])
        if last < first:
            raise PeriodError(f"{text!r}: the range ends before it starts")
        return Period(text, "range", first, last, tz)
    raise PeriodError(
        f"{text!r} is not a period: use 2026-01 (month), 2026-S1 (semester), 2026 (year), "
        "2026-01-15 (day) or 2026-01-01..2026-01-15 (days, both included)"
    )


def previous_month(now: datetime, tz_name: str) -> Period:
    """The last month that is over at ``now`` (local time)."""
    local = now.astimezone(zone(tz_name)).date().replace(day=1) - timedelta(days=1)
    return parse_period(f"{local.year:04d}-{local.month:02d}", tz_name)


def previous_semester(now: datetime, tz_name: str) -> Period:
    """The last semester that is over at ``now`` (local time)."""
    local = now.astimezone(zone(tz_name)).date()
    if local.month >= 7:
        return parse_period(f"{local.year}-S1", tz_name)
    return parse_period(f"{local.year - 1}-S2", tz_name)
