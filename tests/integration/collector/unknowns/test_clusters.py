"""Unmatched music becomes clusters: the same unknown song on two stations is one cluster, a
second song another, and the talk between them none.

Real music and speech, fingerprinted as an agent does, stored as two stations' segments in a
real database (both backends), put through the worker's own cycle (:func:`run_once`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.fleet import repository as fleet_repository
from collector.ingest.service import store_segments
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.settings import CollectorSettings
from collector.worker import run_once
from shared.chroma import CHROMAPRINT_RATE
from shared.segmenter import Segmenter
from tests.fixtures.collector import Collector
from tests.support.audio import concat, excerpt, pcm11k, speech, track

START = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
TALK = (
    "Bonjour et bienvenue sur la radio. Il est huit heures à Dakar, voici les informations. "
    "Le président a reçu ce matin les représentants des pêcheurs de Kayar et de Joal. "
)
CATALOG, SONG_X, SONG_Y = 2, 6, 8


def _programme(tmp: Path, name: str, parts: list[Path]) -> Path:
    return concat(parts, tmp / f"{name}.mp3")


def _store(c: Collector, station: str, agent: str, audio: Path, start: datetime) -> None:
    seg = Segmenter(CHROMAPRINT_RATE, 10.0, [0], start)
    outs = seg.feed(pcm11k(audio)) + seg.finish()
    with transaction(c.tx) as s:
        st = fleet_repository.station(s, station)
        ag = fleet_repository.agent(s, agent)
        assert st is not None and ag is not None
        store_segments(s, ag.id, st.id, 0, outs)


def test_one_unknown_song_on_two_stations_is_one_cluster(collector: Collector, tmp_path: Path) -> None:
    c = collector
    with transaction(c.tx) as s:
        upsert_recording(s, "SODAV-2", track(CATALOG), {"title": "Known", "artist": "Catalog"})
    c.add_station("radio-a")
    c.add_station("radio-b")
    c.add_agent("box-a", ["radio-a"])
    c.add_agent("box-b", ["radio-b"])
    talk = speech(tmp_path / "talk.wav", TALK)
    known = excerpt(track(CATALOG), tmp_path / "known.mp3", 20, 90)
    x_a = excerpt(track(SONG_X), tmp_path / "xa.mp3", 10, 70)
    # the same song on another station: another part of it, through a radio's compressor and band
    x_b = excerpt(
        track(SONG_X), tmp_path / "xb.mp3", 40, 70, "acompressor=threshold=0.1:ratio=4,lowpass=f=9000"
    )
    y_b = excerpt(track(SONG_Y), tmp_path / "yb.mp3", 15, 60)
    _store(c, "radio-a", "box-a", _programme(tmp_path, "a", [talk, x_a, talk, known]), START)
    _store(c, "radio-b", "box-b", _programme(tmp_path, "b", [y_b, talk, x_b, known]), START)

    settings = CollectorSettings(database_url=c.database_url)
    catalog, done = None, 1
    while done:
        catalog, done = run_once(c.tx, catalog, settings)

    with c.session() as s:
        spans = s.scalars(select(UnknownSpan).order_by(UnknownSpan.start)).all()
        clusters = {cl.id: cl for cl in s.scalars(select(UnknownCluster))}
        by_cluster: dict[int, list[UnknownSpan]] = {}
        for sp in spans:
            by_cluster.setdefault(sp.cluster_id, []).append(sp)
        stations = {cid: {sp.station_id for sp in sps} for cid, sps in by_cluster.items()}
    # song X on both stations, song Y on one: two clusters, the talk in none
    assert len(clusters) == 2, [(sp.station_id, sp.start, sp.end, sp.cluster_id) for sp in spans]
    assert sorted(len(v) for v in stations.values()) == [1, 2]
    x = next(cid for cid, st in stations.items() if len(st) == 2)
    assert clusters[x].spans == 2
    assert 100 <= clusters[x].airtime_s <= 150
    # every span lies within the song it is made of (the talk is not music)
    for sp in spans:
        assert sp.seconds >= 20
    assert clusters[x].lookup == "acoustid"  # a span long enough to look up
    assert clusters[x].best_span_id in {sp.id for sp in by_cluster[x]}
