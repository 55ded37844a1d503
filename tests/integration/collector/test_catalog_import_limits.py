"""``sodav-collector catalog import`` on rows and files that once stopped the whole batch
(issue #16, item 12), through the real command, on PostgreSQL and SQLite."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.collector.test_catalog_import import recordings, run_import, write_csv
from tests.support.audio import excerpt, track


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("catalog-limits")
    excerpt(track(1), d / "good.mp3", 20, 12)
    excerpt(track(2), d / "whole.mp3", 20, 30)
    data = (d / "whole.mp3").read_bytes()
    (d / "half.mp3").write_bytes(data[: len(data) // 2])  # its Xing header still says 30 s
    return d


def test_non_utf8_csv_is_exit_2_with_a_message(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("path,external_id,title,artist\nx.mp3,SOD-1,Café,Déjà\n".encode("latin-1"))
    result = run_import(database_url, path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "UTF-8" in result.stderr and "line 2" in result.stderr


def test_a_nul_byte_in_a_field_fails_its_row(database_url: str, songs: Path, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    good = str(songs / "good.mp3").encode()
    path.write_bytes(
        b"path,external_id,title,artist\n" + good + b",SOD-1,a\x00b,c\n" + good + b",SOD-2,ok,c\n"
    )
    result = run_import(database_url, path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "line 2 (SOD-1): title holds a NUL character" in result.stderr
    assert sorted(recordings(database_url)) == ["SOD-2"]


def test_rows_the_database_cannot_hold_fail_alone(database_url: str, songs: Path, tmp_path: Path) -> None:
    good = str(songs / "good.mp3")
    bad_rows = [
        {"external_id": "Y63", "year": str(2**63)},
        {"external_id": "Y31", "year": str(2**31)},
        {"external_id": "ISRC13", "isrc": "FRX4521001011"},
        {"external_id": "ISRCBAD", "isrc": "12-345-67-89012"},
        {"external_id": "TITLE", "title": "t" * 501},
        {"external_id": "LABEL", "label": "l" * 301},
        {"external_id": "X" * 101},
        {"external_id": "ZERO", "path": "/dev/zero"},
        {"external_id": "DIR", "path": str(songs)},
        {"external_id": "HALF", "path": str(songs / "half.mp3")},
    ]
    rows = [{"path": good, "title": "T", "artist": "A"} | r for r in bad_rows]
    rows.append({"path": good, "external_id": "OK", "title": "T", "artist": "A", "isrc": "fr-x45-21-00101"})
    result = run_import(database_url, write_csv(tmp_path / "c.csv", rows))
    assert result.returncode == 0, result.stderr
    assert "1 added, 0 updated, 0 unchanged, 10 failed" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    err = result.stderr
    assert "line 2 (Y63): year" in err and "line 3 (Y31): year" in err
    assert "line 4 (ISRC13): isrc" in err and "line 5 (ISRCBAD): isrc" in err
    assert "line 6 (TITLE): title is longer than 500 characters" in err
    assert "line 7 (LABEL): label is longer than 300 characters" in err
    assert "external_id is longer than 100 characters" in err
    assert "line 9 (ZERO): /dev/zero is not a regular file" in err
    assert "line 10 (DIR)" in err and "not a regular file" in err
    assert "line 11 (HALF)" in err and "truncated" in err
    assert sorted(recordings(database_url)) == ["OK"]


def test_a_duplicate_external_id_in_one_csv_fails_the_later_row(
    database_url: str, songs: Path, tmp_path: Path
) -> None:
    good = str(songs / "good.mp3")
    rows = [
        {"path": good, "external_id": "SOD-1", "title": "First", "artist": "A"},
        {"path": good, "external_id": "SOD-2", "title": "Other", "artist": "B"},
        {"path": good, "external_id": "SOD-1", "title": "Second", "artist": "A"},
    ]
    result = run_import(database_url, write_csv(tmp_path / "dup.csv", rows))
    assert "2 added, 0 updated, 0 unchanged, 1 failed" in result.stdout, result.stdout + result.stderr
    assert "line 4 (SOD-1): external_id SOD-1 is already on line 2" in result.stderr
    assert recordings(database_url)["SOD-1"].title == "First"


def test_dev_zero_does_not_hang_the_import(database_url: str, tmp_path: Path) -> None:
    rows = [{"path": "/dev/zero", "external_id": "Z", "title": "T", "artist": "A"}]
    try:
        result = run_import(database_url, write_csv(tmp_path / "z.csv", rows))
    except subprocess.TimeoutExpired:  # pragma: no cover - the bug
        pytest.fail("catalog import hung on /dev/zero")
    assert result.returncode == 1 and "not a regular file" in result.stderr
