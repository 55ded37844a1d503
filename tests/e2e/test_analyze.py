"""``sodav-collector analyze`` end to end, as an analyst runs it on an aircheck recording.

A short radio programme is built from real music and espeak-ng speech (song, DJ break, a
song under a voice-over, an off-catalog song, a crossfade), played 2 % fast through a
compressor into a 128 kbit/s MP3. The catalog is imported with ``sodav-collector catalog
import`` and the recording analysed with ``sodav-collector analyze``, both as subprocesses,
on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.db.engine import make_engine, make_sessionmaker
from collector.fleet.models import Station
from collector.plays.models import Play
from demo.programme import DemoFiles, build_demo

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

START = datetime(2026, 4, 6, 9, 30, tzinfo=UTC)
REQUIRED = ["station", "external_id", "isrc", "title", "artist", "start", "end", "duration", "confidence"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return build_demo(tmp_path_factory.mktemp("radio"))


def collector(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def truth(demo: DemoFiles) -> list[tuple[str, float, float]]:
    """(external_id, start, end) in broadcast seconds; a crossfade's boundary is its middle."""
    with demo.truth_csv.open(newline="") as fh:
        rows = [(r["external_id"], float(r["start_s"]), float(r["end_s"])) for r in csv.DictReader(fh)]
    out = []
    for i, (ext, s, e) in enumerate(rows):
        if i + 1 < len(rows) and rows[i + 1][1] < e:
            e = (rows[i + 1][1] + e) / 2
        if i > 0 and rows[i - 1][2] > s:
            s = (rows[i - 1][2] + s) / 2
        out.append((ext, s, e))
    return out


def parse_utc(text: str) -> datetime:
    assert text.endswith("Z"), text  # ISO-8601 in UTC
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert t.utcoffset() == timedelta(0)
    return t


def small_catalog(demo: DemoFiles, out: Path) -> Path:
    """The demo's catalog less its last entry: five whole tracks to fingerprint, not six."""
    lines = demo.catalog_csv.read_text().splitlines()
    out.write_text("\n".join(lines[:-1]) + "\n")
    return out


def test_analyze_writes_the_plays_of_a_recording(database_url: str, demo: DemoFiles, tmp_path: Path) -> None:
    imported = collector(
        database_url, "catalog", "import", str(small_catalog(demo, tmp_path / "catalog.csv"))
    )
    assert imported.returncode == 0, imported.stderr

    out = tmp_path / "plays.csv"
    iso = START.isoformat().replace("+00:00", "Z")
    run = collector(
        database_url,
        "analyze",
        str(demo.recording),
        "--station",
        "radio-test",
        "--start",
        iso,
        "--csv",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    assert "plays" in run.stderr

    with out.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames is not None and reader.fieldnames[: len(REQUIRED)] == REQUIRED
        plays = list(reader)

    expected = truth(demo)
    assert [p["external_id"] for p in plays] == [
        ext for ext, _, _ in expected
    ]  # the off-catalog song is not named
    for p, (_, t_start, t_end) in zip(plays, expected, strict=True):
        start, end = parse_utc(p["start"]), parse_utc(p["end"])
        assert p["station"] == "radio-test"
        assert p["isrc"].startswith("FRZ9D26") and p["title"] and p["artist"] == "Hedgewars OST"
        assert abs((start - START).total_seconds() - t_start) <= 3.0, (p, t_start)
        assert abs((end - START).total_seconds() - t_end) <= 3.0, (p, t_end)
        assert abs(float(p["duration"]) - (end - start).total_seconds()) < 0.02
        assert 0.5 < float(p["confidence"]) <= 1.0
        assert p["rate_percent"] == "+2.0"

    # the station did not exist before: analyze created it, and the plays are stored under it
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as s:
            station = s.scalar(select(Station).where(Station.slug == "radio-test"))
            assert station is not None
            stored = s.scalars(select(Play).where(Play.station_id == station.id)).all()
            assert len(stored) == len(plays)
            assert {p.status for p in stored} == {"final"}
    finally:
        engine.dispose()

    # the same recording at the same time again would count every play twice: refused
    again = collector(database_url, "analyze", str(demo.recording), "--station", "radio-test", "--start", iso)
    assert again.returncode == 2
    assert "already has" in again.stderr and "count its plays twice" in again.stderr
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as s:
            station_id = s.scalar(select(Station.id).where(Station.slug == "radio-test"))
            assert len(s.scalars(select(Play).where(Play.station_id == station_id)).all()) == len(plays)
    finally:
        engine.dispose()
