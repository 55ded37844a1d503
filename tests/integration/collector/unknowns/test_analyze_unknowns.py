"""``sodav-collector analyze`` names what the catalog lacks, the live way, with 12 s of the file.

A recording holds talk, a song the society's catalog lacks (the stand-in knows it) and a
catalog song. ``analyze`` runs as a subprocess with the recognizers pointed at the stand-in:
the unknown song is clustered, AcoustID does not name it, AudD names it from 12 s cut from the
file, and the CSV has its play with ``source`` ``audd`` and the provider's ISRC, next to the
catalog song's play with ``source`` ``catalog``.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector.catalog.service import upsert_recording
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from tests.integration.collector.unknowns.programmes import CATALOG, TALK
from tests.support.audio import concat, excerpt, speech, track
from tests.support.recognizers_standin import References, Standin

pytestmark = pytest.mark.timeout(300)
CLI = [sys.executable, "-m", "collector.cli"]


def test_analyze_names_off_catalog_music_from_the_file(
    database_url: str, tmp_path: Path, standin_refs: References
) -> None:
    engine = make_engine(database_url)
    with transaction(make_sessionmaker(engine)) as s:
        upsert_recording(s, "SODAV-2", track(CATALOG), {"title": "Known", "artist": "Catalog"})
    engine.dispose()
    talk = speech(tmp_path / "talk.wav", TALK)
    song = excerpt(track(0), tmp_path / "song.mp3", 10, 80, "acompressor=threshold=0.1:ratio=4")
    known = excerpt(track(CATALOG), tmp_path / "known.mp3", 20, 90)
    aircheck = concat([talk, song, talk, known], tmp_path / "aircheck.mp3")
    for name, secret in (("audd.token", "audd-test-token"), ("acoustid.key", "acoustid-test-key")):
        (tmp_path / name).write_text(secret)
        (tmp_path / name).chmod(0o600)
    with Standin(standin_refs) as standin:
        env = dict(
            os.environ,
            SODAV_COLLECTOR_DATABASE_URL=database_url,
            SODAV_COLLECTOR_RECOGNIZERS__AUDD_URL=standin.audd_url,
            SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_URL=standin.acoustid_url,
            SODAV_COLLECTOR_RECOGNIZERS__AUDD_TOKEN_FILE=str(tmp_path / "audd.token"),
            SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_KEY_FILE=str(tmp_path / "acoustid.key"),
        )
        done = subprocess.run(
            [*CLI, "analyze", str(aircheck), "--station", "sud-fm", "--start", "2026-11-20T08:00:00Z"],
            env=env,
            capture_output=True,
            text=True,
            timeout=280,
        )
        audd = [r for r in standin.requests if r.service == "audd"]
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    by_source = {r["source"]: r for r in rows}
    assert set(by_source) == {"catalog", "audd"}, rows
    named = by_source["audd"]
    assert (named["title"], named["artist"], named["isrc"]) == ("Dëgg La", "Aïssatou Fall", "SNA1B2600001")
    assert float(named["duration"]) >= 40
    assert by_source["catalog"]["external_id"] == "SODAV-2"
    assert len(audd) == 1 and (audd[0].audio_seconds or 0) <= 12.5  # one lookup, at most 12 s
    assert "1 named" in done.stderr
    assert "audd-test-token" not in done.stderr and "acoustid-test-key" not in done.stderr
