"""``sodav-collector catalog import`` on real audio, on PostgreSQL and SQLite."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.catalog.models import Recording
from collector.db.engine import make_engine, make_sessionmaker
from shared.codec import decode
from tests.support.audio import excerpt, track

COLUMNS = [
    "path",
    "external_id",
    "title",
    "artist",
    "isrc",
    "iswc",
    "album",
    "label",
    "composer",
    "publisher",
    "year",
]


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("catalog-audio")
    for i in range(3):
        excerpt(track(i + 1), d / f"song{i}.mp3", 20, 25)
    (d / "corrupt.mp3").write_bytes(b"ID3\x03\x00\x00\x00" + os.urandom(30000))
    return d


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    return path


def run_import(database_url: str, csv_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", "catalog", "import", str(csv_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def recordings(database_url: str) -> dict[str, Recording]:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as s:
            return {r.external_id: r for r in s.scalars(select(Recording))}
    finally:
        engine.dispose()


def rows(audio_dir: Path) -> list[dict[str, str]]:
    return [
        {
            "path": str(audio_dir / "song0.mp3"),
            "external_id": "SN-0001",
            "title": "Yaay Boy",
            "artist": "Orchestre Baobab",
            "isrc": "sn-a01-26-00001",
            "iswc": "T-034.524.680-1",
            "album": "Pirates Choice",
            "label": "World Circuit",
            "composer": "Balla Sidibé",
            "publisher": "SODAV Éditions",
            "year": "1982",
        },
        # a missing file and a corrupt one in the middle of the batch
        {
            "path": str(audio_dir / "nowhere.mp3"),
            "external_id": "SN-0002",
            "title": "Lost",
            "artist": "Nobody",
        },
        {"path": "song1.mp3", "external_id": "SN-0003", "title": "Xalat", "artist": "Youssou N'Dour"},
        {
            "path": str(audio_dir / "corrupt.mp3"),
            "external_id": "SN-0004",
            "title": "Broken",
            "artist": "Noise",
        },
        {
            "path": str(audio_dir / "song2.mp3"),
            "external_id": "SN-0005",
            "title": "Ndigal",
            "artist": "Baaba Maal",
        },
    ]


def test_import_stores_recordings_and_reports_bad_files(database_url: str, audio_dir: Path) -> None:
    # relative paths are relative to the CSV file
    result = run_import(database_url, write_csv(audio_dir / "catalog.csv", rows(audio_dir)))
    assert result.returncode == 0, result.stderr
    assert "3 added, 0 updated, 0 unchanged, 2 failed" in result.stdout
    assert "line 3 (SN-0002)" in result.stderr and "nowhere.mp3" in result.stderr
    assert "line 5 (SN-0004)" in result.stderr and "corrupt.mp3" in result.stderr

    recs = recordings(database_url)
    assert sorted(recs) == ["SN-0001", "SN-0003", "SN-0005"]
    first = recs["SN-0001"]
    assert (first.title, first.artist) == ("Yaay Boy", "Orchestre Baobab")
    assert first.isrc == "SNA012600001"  # normalised: no dashes, upper case
    assert first.iswc == "T-034.524.680-1"
    assert (first.album, first.label, first.composer, first.publisher) == (
        "Pirates Choice",
        "World Circuit",
        "Balla Sidibé",
        "SODAV Éditions",
    )
    assert first.year == 1982
    assert recs["SN-0003"].isrc is None and recs["SN-0003"].year is None
    for rec in recs.values():
        assert 24 < rec.duration < 26
        fp = decode(rec.fingerprint)
        assert fp.values.size > 150  # ~8 values per second of audio


def test_reimport_is_idempotent_and_updates_changed_metadata(database_url: str, audio_dir: Path) -> None:
    batch = rows(audio_dir)
    csv_path = write_csv(audio_dir / "catalog-twice.csv", batch)
    assert run_import(database_url, csv_path).returncode == 0
    before = recordings(database_url)

    batch[0]["title"] = "Yaay Boy (remastered)"
    batch[4]["label"] = "Syllart"
    result = run_import(database_url, write_csv(csv_path, batch))
    assert result.returncode == 0, result.stderr
    assert "0 added, 2 updated, 1 unchanged, 2 failed" in result.stdout

    after = recordings(database_url)
    assert sorted(after) == sorted(before)  # no duplicates
    assert after["SN-0001"].title == "Yaay Boy (remastered)"
    assert after["SN-0005"].label == "Syllart"
    for ext, rec in after.items():
        assert rec.id == before[ext].id
        assert rec.fingerprint == before[ext].fingerprint  # same audio: not fingerprinted again


def test_a_missing_catalog_file_is_a_clear_error(database_url: str, tmp_path: Path) -> None:
    result = run_import(database_url, tmp_path / "absent.csv")
    assert result.returncode == 2
    assert "absent.csv does not exist" in result.stderr
