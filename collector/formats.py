"""How the collector writes times and rates for people and files: one place for each format."""

from __future__ import annotations

from datetime import datetime


def iso_z(t: datetime, timespec: str = "auto") -> str:
    """An aware UTC time in ISO 8601 with ``Z``: ``2026-01-01T10:00:00.250Z``."""
    return t.isoformat(timespec=timespec).replace("+00:00", "Z")


def print_table(rows: list[list[str]], header: list[str]) -> None:
    """Rows under a header, in columns two spaces apart (the fleet, segments and notification lists)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def rate_percent(rate_ppm: int) -> str:
    """A playback rate as a signed percentage with one decimal: ``+2.5``, ``-0.8``."""
    return f"{rate_ppm / 1e4:+.1f}"
