"""An unknown song is named once, learned, and matched locally ever after.

A real collector (``serve`` with its worker) gets two stations' audio over HTTP: a song its
catalog lacks, between talk and a catalog song. The worker clusters the unknown music, asks
AcoustID (the stand-in: it does not name a broadcast stretch), then asks the station's agent
for 12 s of audio in the heartbeat acknowledgement; the agent (here, a client speaking the
agent's protocol) answers with the Ogg/Opus excerpt, AudD (the stand-in, which identifies the
audio) names it with every field, and the song becomes a learned recording: its plays on the
first station are assembled, and on the second station it is matched with no paid request.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from collector.catalog.models import Recording
from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.fleet.models import Station
from collector.plays.models import Play
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.models import RecognizerRequests
from shared.chroma import CHROMAPRINT_RATE
from shared.codec import encode
from shared.segmenter import Segmenter
from tests.fixtures.collector import Collector
from tests.support.audio import concat, excerpt, pcm11k, speech, track
from tests.support.payloads import heartbeat, upload
from tests.support.recognizers_standin import References, Standin

TOKEN = "audd-test-token"
KEY = "acoustid-test-key"
TALK = (
    "Bonjour et bienvenue sur la radio. Il est huit heures à Dakar, voici les informations. "
    "Le président a reçu ce matin les représentants des pêcheurs de Kayar et de Joal. "
)
CATALOG = 6  # in the society's catalog; the stand-in knows tracks 0-3


def _wait(what: str, check: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _upload(c: Collector, token: str, agent: str, station: str, audio: Path, start: datetime) -> None:
    seg = Segmenter(CHROMAPRINT_RATE, 10.0, [0], start)
    outs = seg.feed(pcm11k(audio)) + seg.finish()
    segments = [
        {
            "station": station,
            "seq": i,
            "start": out.start.isoformat(),
            "duration": out.duration,
            "level_dbfs": -14.0,
            "fingerprints": [base64.b64encode(encode(fp)).decode() for fp in out.fingerprints],
        }
        for i, out in enumerate(outs)
    ]
    resp = httpx.post(
        f"{c.url}/api/v1/uploads",
        json=upload(agent, segments, batch_id=f"{station}-1"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text


def _answer_excerpts(c: Collector, token: str, agent: str, station: str, audio: Path, start: datetime) -> int:
    """What the agent does with a heartbeat's acknowledgement: cut each asked span, send it."""
    ack = httpx.post(
        f"{c.url}/api/v1/heartbeats", json=heartbeat(agent), headers={"Authorization": f"Bearer {token}"}
    ).json()
    for req in ack.get("excerpts", []):
        a = datetime.fromisoformat(req["start"].replace("Z", "+00:00"))
        b = datetime.fromisoformat(req["end"].replace("Z", "+00:00"))
        ogg = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-ss",
                str((a - start).total_seconds()),
                "-t",
                str((b - a).total_seconds()),
                "-i",
                str(audio),
                "-ac",
                "1",
                "-c:a",
                "libopus",
                "-b:a",
                "24k",
                "-f",
                "ogg",
                "-",
            ],
            capture_output=True,
            check=True,
        ).stdout
        body = {
            "schema_version": 1,
            "agent": agent,
            "request": req["id"],
            "station": station,
            "start": req["start"],
            "end": req["end"],
            "audio": base64.b64encode(ogg).decode(),
        }
        resp = httpx.post(f"{c.url}/api/v1/excerpts", json=body, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.text
    return len(ack.get("excerpts", []))


@pytest.mark.timeout(400)
def test_unknown_song_is_named_learned_and_matched_locally(
    database_url: str, tmp_path: Path, standin_refs: References
) -> None:
    for name, secret in (("audd.token", TOKEN), ("acoustid.key", KEY)):
        (tmp_path / name).write_text(secret + "\n")
        (tmp_path / name).chmod(0o600)
    with Standin(standin_refs) as standin:
        c = Collector(
            database_url,
            tmp_path,
            extra_env={
                "SODAV_COLLECTOR_WORKER__ENABLED": "true",
                "SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S": "0.2",
                "SODAV_COLLECTOR_RECOGNIZERS__AUDD_URL": standin.audd_url,
                "SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_URL": standin.acoustid_url,
                "SODAV_COLLECTOR_RECOGNIZERS__AUDD_TOKEN_FILE": str(tmp_path / "audd.token"),
                "SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_KEY_FILE": str(tmp_path / "acoustid.key"),
            },
        )
        with transaction(c.tx) as s:
            upsert_recording(s, "SODAV-6", track(CATALOG), {"title": "Known", "artist": "Catalog"})
        c.add_station("radio-a")
        c.add_station("radio-b")
        talk = speech(tmp_path / "talk.wav", TALK)
        known = excerpt(track(CATALOG), tmp_path / "known.mp3", 20, 90)
        song = excerpt(track(0), tmp_path / "song-a.mp3", 10, 80, "acompressor=threshold=0.1:ratio=4")
        prog_a = concat([talk, song, talk, known], tmp_path / "a.mp3")
        start_a = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
        c.start()
        try:
            token_a = c.add_agent("box-a", ["radio-a"])
            token_b = c.add_agent("box-b", ["radio-b"])
            _upload(c, token_a, "box-a", "radio-a", prog_a, start_a)

            def excerpt_answered() -> int:
                return _answer_excerpts(c, token_a, "box-a", "radio-a", prog_a, start_a)

            _wait("the collector to ask for an excerpt", excerpt_answered)

            def named() -> Recording | None:
                with c.session() as s:
                    return s.scalars(select(Recording).where(Recording.source == "audd")).first()

            learned = _wait("the cluster to be named and learned", named)
            assert (learned.title, learned.artist) == ("Dëgg La", "Aïssatou Fall")
            assert learned.isrc == "SNA1B2600001"
            assert learned.album and learned.label and learned.release_date and learned.song_link
            with c.session() as s:
                cluster = s.scalars(select(UnknownCluster)).one()
                assert cluster.lookup == "named" and cluster.recording_id == learned.id
                providers = [cand["provider"] for cand in cluster.candidates or []]
                assert providers == ["audd"]

            def played(station: str) -> list[Play]:
                with c.session() as s:
                    return list(
                        s.scalars(
                            select(Play)
                            .join(Station, Station.id == Play.station_id)
                            .where(Play.recording_id == learned.id, Station.slug == station)
                        )
                    )

            plays_a = _wait("the learned song's play on radio-a", lambda: played("radio-a"))
            with c.session() as s:
                span = s.scalars(select(UnknownSpan)).one()
            # the play covers the music the cluster heard (the learned reference is that broadcast)
            assert sum(p.duration for p in plays_a) >= 0.9 * span.seconds

            # another station airs the song: named locally, nothing more is paid for
            song_b = excerpt(track(0), tmp_path / "song-b.mp3", 30, 70, "lowpass=f=9000")
            prog_b = concat([talk, song_b, known], tmp_path / "b.mp3")
            _upload(c, token_b, "box-b", "radio-b", prog_b, start_a + timedelta(minutes=30))
            _wait("the learned song's play on radio-b", lambda: played("radio-b"))
            with c.session() as s:
                audd = sum(
                    r.count
                    for r in s.scalars(select(RecognizerRequests).where(RecognizerRequests.service == "audd"))
                )
            assert audd == 1
            assert [r.service for r in standin.requests].count("audd") == 1
            # the keys never reach the collector's log
            log = c.log()
            assert TOKEN not in log and KEY not in log
        finally:
            c.stop()
            c.close()
