"""Commands refuse what the docs do not allow, and never echo a secret (issue #16, items 13, 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(url: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


# the slug is refused before any query: one backend (sqlite_url) is enough
@pytest.mark.parametrize("slug", ["a/../../tmp/x", "Upper Case!", "_under", "x" * 65, ""])
def test_stations_add_refuses_slugs_outside_the_format(sqlite_url: str, slug: str) -> None:
    result = _run(sqlite_url, "stations", "add", slug)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "lowercase" in result.stderr and "rfm-dakar" in result.stderr
    listed = _run(sqlite_url, "stations", "list").stdout
    assert "STATION" in listed
    assert slug not in listed.split()


def test_analyze_refuses_a_bad_station_slug(sqlite_url: str, tmp_path: Path) -> None:
    result = _run(
        sqlite_url, "analyze", "--station", "a/../../tmp/x", "--start", "2026-01-01T00:00:00Z", "nofile.mp3"
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "lowercase" in result.stderr
    assert not (tmp_path / "tmp").exists()
    for start in ("9999-12-31T23:59:00Z", "0001-01-01T00:00:00+01:00"):
        result = _run(sqlite_url, "analyze", "--station", "rfm", "--start", start, "nofile.mp3")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "--start" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "mysql://sodav:hunter2-secret@db.example/sodav",
        "postgresql+asyncpg://sodav:hunter2-secret@db.example/sodav",
        "http://sodav:hunter2-secret@db.example/sodav",
    ],
)
def test_an_invalid_database_url_never_shows_its_password(url: str) -> None:
    result = _run(url, "stations", "list")
    assert result.returncode == 2
    assert "database_url" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert "sodav:***@db.example" in result.stderr
