"""Report periods: local calendar periods handed back as UTC bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.reports.periods import PeriodError, parse_period, previous_month, previous_semester


def test_month_semester_year_day_and_range() -> None:
    jan = parse_period("2026-01")
    assert (jan.start, jan.end) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert jan.seconds == 31 * 86400
    s2 = parse_period("2025-s2")
    assert s2.label == "2025-S2" and s2.end == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_period("2024").seconds == 366 * 86400
    days = parse_period("2026-01-30..2026-02-01")
    assert days.seconds == 3 * 86400 and days.kind == "range"
    assert parse_period("2026-03-15").seconds == 86400


def test_local_time_zone_with_summer_time() -> None:
    # a month in Paris starts at 23:00 UTC the day before, and March loses an hour
    mar = parse_period("2026-03", "Europe/Paris")
    assert mar.start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert mar.end == datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert mar.seconds == 31 * 86400 - 3600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month must be 01 to 12"),
        ("January", "is not a period"),
        ("2026-02-30", "is not a date"),
        ("2026-02-10..2026-02-01", "ends before it starts"),
    ],
)
def test_bad_periods_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_unknown_zone() -> None:
    with pytest.raises(PeriodError, match="unknown time zone"):
        parse_period("2026-01", "Mars/Olympus")


def test_previous_periods() -> None:
    now = datetime(2026, 7, 3, 10, tzinfo=UTC)
    assert previous_month(now, "Africa/Dakar").label == "2026-06"
    assert previous_semester(now, "Africa/Dakar").label == "2026-S1"
    assert previous_semester(datetime(2026, 1, 2, tzinfo=UTC), "Africa/Dakar").label == "2025-S2"
    assert previous_month(datetime(2026, 1, 2, tzinfo=UTC), "Africa/Dakar").label == "2025-12"
