"""Two stations' programmes for the unknown-music tests: songs the catalog lacks, talk, a catalog
song; fingerprinted as an agent does and stored as the stations' segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.fleet import repository as fleet_repository
from collector.ingest.service import store_segments
from collector.plays.closing import WAIT_FOR_BACKLOG
from collector.settings import CollectorSettings, RecognizerSettings
from collector.worker import close_quiet_plays, run_once
from shared.chroma import CHROMAPRINT_RATE
from shared.segmenter import Segmenter
from tests.fixtures.collector import Collector
from tests.support.audio import concat, excerpt, pcm11k, speech, track
from tests.support.recognizers_standin import Standin

START = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
TALK = (
    "Bonjour et bienvenue sur la radio. Il est huit heures à Dakar, voici les informations. "
    "Le président a reçu ce matin les représentants des pêcheurs de Kayar et de Joal. "
)
CATALOG, SONG_X, SONG_Y, SONG_Z = 2, 6, 8, 9


def store(c: Collector, station: str, agent: str, audio: Path, start: datetime, seq: int = 0) -> None:
    seg = Segmenter(CHROMAPRINT_RATE, 10.0, [0], start)
    outs = seg.feed(pcm11k(audio)) + seg.finish()
    with transaction(c.tx) as s:
        st = fleet_repository.station(s, station)
        ag = fleet_repository.agent(s, agent)
        assert st is not None and ag is not None
        store_segments(s, ag.id, st.id, seq, outs)


def two_stations(c: Collector, tmp: Path, song_z: bool = False) -> None:
    """Song X on both stations (two parts of it, one through a radio's compressor and band), song
    Y on radio-b, and with ``song_z`` song Z on radio-a; talk between, a catalog song after."""
    with transaction(c.tx) as s:
        upsert_recording(s, "SODAV-2", track(CATALOG), {"title": "Known", "artist": "Catalog"})
    for n in ("a", "b"):
        c.add_station(f"radio-{n}")
        with transaction(c.tx) as s:
            from collector.fleet import service

            service.create_agent(s, f"box-{n}", [f"radio-{n}"])
    talk = speech(tmp / "talk.wav", TALK)
    known = excerpt(track(CATALOG), tmp / "known.mp3", 20, 90)
    x_a = excerpt(track(SONG_X), tmp / "xa.mp3", 10, 70)
    chain = "acompressor=threshold=0.1:ratio=4,lowpass=f=9000"
    x_b = excerpt(track(SONG_X), tmp / "xb.mp3", 40, 70, chain)
    y_b = excerpt(track(SONG_Y), tmp / "yb.mp3", 15, 60)
    extra = [excerpt(track(SONG_Z), tmp / "za.mp3", 20, 50), talk] if song_z else []
    store(c, "radio-a", "box-a", concat([talk, x_a, talk, *extra, known], tmp / "a.mp3"), START)
    store(c, "radio-b", "box-b", concat([y_b, talk, x_b, known], tmp / "b.mp3"), START)


def run_worker(c: Collector) -> None:
    """The worker's cycles until the queue is empty, then its closing of plays whose audio stopped
    (the boxes here send no heartbeats: past ``WAIT_FOR_BACKLOG``, the plays are final)."""
    settings = CollectorSettings(database_url=c.database_url)
    catalog, done = None, 1
    while done:
        catalog, done = run_once(c.tx, catalog, settings)
    close_quiet_plays(c.tx, datetime.now(UTC) + WAIT_FOR_BACKLOG + timedelta(minutes=1))


def standin_settings(c: Collector, standin: Standin) -> CollectorSettings:
    """The collector's settings with both recognizers pointed at the stand-in."""
    return CollectorSettings(
        environment="test",
        database_url=c.database_url,
        recognizers=RecognizerSettings(
            audd_url=standin.audd_url,
            acoustid_url=standin.acoustid_url,
            audd_token=SecretStr("audd-test-token"),
            acoustid_key=SecretStr("acoustid-test-key"),
        ),
    )
