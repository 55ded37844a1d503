"""Several processes on one PostgreSQL database: ``serve --workers 2`` takes the uploads, two
``sodav-collector worker`` processes share the queue, and the plays are those one worker makes.

Three stations play catalog songs between other music, cut into 10-s segments as an agent cuts
them and uploaded four segments of one station at a time, so that two workers claiming two
segments each hold neighbouring segments of one station. The same uploads go to a second
database matched by one worker: an analyst finds the same plays in both, each segment was
matched once, and none is left behind. SQLite refuses a second worker, and ``--workers``.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from collector.catalog.models import Recording
from collector.catalog.service import upsert_recording
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.fleet.models import Agent, Station
from collector.ingest.models import Segment
from collector.matching.models import SegmentMatch
from collector.matching.repository import claim_segments, take_stations, unclaim
from collector.plays.models import Play
from shared.chroma import CHROMAPRINT_RATE
from shared.codec import encode
from shared.segmenter import Segmenter
from tests.fixtures.collector import Collector, stop_process, worker_process
from tests.support.audio import excerpt, pcm11k, track
from tests.support.scrape import Scrape

pytestmark = pytest.mark.slow

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
SONGS = {"SOD-A": 2, "SOD-B": 5, "SOD-C": 7}
STATIONS = {"rfm": ("SOD-A", "SOD-B", "SOD-C"), "sud": ("SOD-C", "SOD-A"), "zik": ("SOD-B", "SOD-C")}
SONG_S, BREAK_S = 60.0, 15.0
PER_UPLOAD = 4  # segments of one station in one upload
BATCH = "2"  # segments a worker claims per cycle


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, np.ndarray]]:
    """The catalog songs (files) and each station's broadcast (11 025 Hz mono): breaks of other
    music between the songs, at different places in them."""
    tmp = tmp_path_factory.mktemp("scale")
    songs = {ext: excerpt(track(i), tmp / f"{ext}.mp3", 0, 90) for ext, i in SONGS.items()}
    other = pcm11k(excerpt(track(9), tmp / "other.mp3", 20, 120))
    sr = CHROMAPRINT_RATE
    broadcasts = {}
    for n, (slug, playlist) in enumerate(STATIONS.items()):
        parts = []
        for k, ext in enumerate(playlist):
            cut = int((n * 30 + k * 15) * sr)
            parts.append(other[cut : cut + int(BREAK_S * sr)])
            begin = int((5 + 10 * k) * sr)
            parts.append(pcm11k(songs[ext])[begin : begin + int(SONG_S * sr)])
        parts.append(other[: int(BREAK_S * sr)])
        broadcasts[slug] = np.concatenate(parts)
    return songs, broadcasts


def _uploads(broadcasts: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """The agent's uploads, four segments of one station each, stations taking turns."""
    per_station = {}
    for slug, pcm in broadcasts.items():
        seg = Segmenter(CHROMAPRINT_RATE, 10.0, [0], T0)
        outs = seg.feed(pcm) + seg.finish()
        per_station[slug] = [
            {
                "station": slug,
                "seq": o.index,
                "start": o.start.isoformat(),
                "duration": o.duration,
                "level_dbfs": -14.0,
                "fingerprints": [base64.b64encode(encode(fp)).decode() for fp in o.fingerprints],
            }
            for o in outs
        ]
    uploads = []
    for at in range(0, max(len(s) for s in per_station.values()), PER_UPLOAD):
        for segs in per_station.values():
            if segs[at : at + PER_UPLOAD]:
                uploads.append(segs[at : at + PER_UPLOAD])
    return [
        {
            "schema_version": 1,
            "agent": "box1",
            "batch_id": f"b{n}",
            "sent_at": datetime.now(UTC).isoformat(),
            "segments": segs,
            "events": [],
        }
        for n, segs in enumerate(uploads)
    ]


WORKER_ENV = {
    "SODAV_COLLECTOR_WORKER__BATCH_SIZE": BATCH,
    "SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S": "0.2",
    "SODAV_COLLECTOR_NOTIFY__ENABLED": "false",
}


def _fill(collector: Collector, songs: dict[str, Path], uploads: list[dict[str, Any]]) -> None:
    """The catalog, the stations and the agent, then every upload through the HTTP API."""
    with transaction(collector.tx) as s:
        for ext, path in songs.items():
            upsert_recording(s, ext, path, {"title": ext, "artist": "Band"})
    for slug in STATIONS:
        collector.add_station(slug)
    with transaction(collector.tx) as s:  # the stations were on the air before the audio
        for st in s.scalars(select(Station)):
            st.created_at = T0 - timedelta(days=1)
    token = collector.add_agent("box1", list(STATIONS))
    with httpx.Client(base_url=collector.url, headers={"Authorization": f"Bearer {token}"}) as client:
        for body in uploads:
            r = client.post("/api/v1/uploads", json=body, timeout=30)
            assert r.status_code in (200, 201), r.text


def _drain(collector: Collector, procs: list[subprocess.Popen[bytes]], timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a worker exited"
        with collector.session() as s:
            waiting = s.scalar(
                select(func.count()).select_from(Segment).where(Segment.status.in_(("new", "claimed")))
            )
        if waiting == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{waiting} segments still wait after {timeout} s")


def _plays(collector: Collector) -> list[tuple[str, str, datetime, datetime, str]]:
    with collector.session() as s:
        rows = s.execute(
            select(Station.slug, Recording.external_id, Play.start, Play.end, Play.status)
            .join(Station, Station.id == Play.station_id)
            .join(Recording, Recording.id == Play.recording_id)
            .order_by(Station.slug, Play.start)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _segments_processed(log: str) -> int:
    return sum(int(n) for n in re.findall(r"matched \d+/(\d+) segments", log))


def test_two_workers_make_the_plays_of_one(
    audio: tuple[dict[str, Path], dict[str, np.ndarray]],
    postgres_databases: Callable[[], str],
    tmp_path: Path,
) -> None:
    songs, broadcasts = audio
    uploads = _uploads(broadcasts)
    total = sum(len(u["segments"]) for u in uploads)
    results = {}
    for label in ("one", "two"):
        url = postgres_databases()
        work = tmp_path / label
        work.mkdir()
        # one: serve's own matching worker, beside its two HTTP processes, while uploads come
        # two: serve matches nothing; every upload waits, then two workers start together
        env = {**WORKER_ENV, "SODAV_COLLECTOR_WORKER__ENABLED": "true"} if label == "one" else {}
        serve = Collector(url, work, extra_env=env, serve_args=["--workers", "2"])
        serve.start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            _fill(serve, songs, uploads)
            if label == "two":
                procs = [worker_process(url, work / f"worker{n}.log", WORKER_ENV) for n in range(2)]
            _drain(serve, procs)
            if label == "one":  # every process's counters, whichever HTTP process answers
                m = Scrape(httpx.get(serve.url + "/metrics", timeout=10).text)
                assert m.value("sodav_uploads_total", agent="box1") == len(uploads)
                outcomes = [
                    m.value("sodav_segments_matched_total", outcome=o) for o in ("matched", "unmatched")
                ]
                assert sum(v or 0 for v in outcomes) == total
        finally:
            for p in procs:
                stop_process(p)
            serve.stop()
        logs = [(work / f"worker{n}.log").read_text() for n in range(len(procs))] or [serve.log()]
        with serve.session() as s:
            statuses = dict(s.execute(select(Segment.status, func.count()).group_by(Segment.status)).all())
            doubled = s.scalar(
                select(func.count()).select_from(
                    select(SegmentMatch.segment_id)
                    .group_by(SegmentMatch.segment_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
        assert statuses.get("quarantined") is None, logs
        assert sum(statuses.values()) == total
        assert doubled == 0
        # each segment went through one worker's cycle once
        assert sum(_segments_processed(log) for log in logs) == total, logs
        assert all(_segments_processed(log) > 0 for log in logs), "a worker did nothing"
        results[label] = _plays(serve)
        serve.close()
    one, two = results["one"], results["two"]
    named = {(slug, ext) for slug, ext, *_ in one}
    assert named == {(slug, ext) for slug, playlist in STATIONS.items() for ext in playlist}
    assert two == one


def test_sqlite_runs_one_worker(sqlite_url: str, tmp_path: Path) -> None:
    first = worker_process(sqlite_url, tmp_path / "first.log", WORKER_ENV)
    try:
        deadline = time.monotonic() + 60
        while "catalog loaded" not in (tmp_path / "first.log").read_text():
            assert time.monotonic() < deadline and first.poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.2)
        second = worker_process(sqlite_url, tmp_path / "second.log", WORKER_ENV)
        assert second.wait(60) == 2
        said = (tmp_path / "second.log").read_text()
        assert "another worker already matches on this SQLite database" in said
        assert "several workers need PostgreSQL" in said
        assert first.poll() is None  # the first one goes on
    finally:
        stop_process(first)
    r = subprocess.run(
        [sys.executable, "-m", "collector.cli", "serve", "--workers", "2"],
        env={**os.environ, "SODAV_COLLECTOR_DATABASE_URL": sqlite_url, "SODAV_COLLECTOR_ENVIRONMENT": "test"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 2
    assert "--workers 2 needs PostgreSQL" in r.stderr


def test_a_station_waits_for_its_earlier_segments_held_by_another_worker(
    postgres_databases: Callable[[], str],
) -> None:
    """Two workers' transactions on PostgreSQL, as they interleave: the first claimed the
    station's earlier segments and has not reached the station yet; the second, holding the
    later ones, leaves the station to its next cycle instead of assembling its plays now."""
    engine = make_engine(postgres_databases())
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        station = Station(slug="rfm", name="RFM")
        s.add(station)
        s.flush()
        agent = Agent(name="box1", stations=[station])
        s.add(agent)
        s.flush()
        for seq in range(4):
            s.add(Segment(agent_id=agent.id, station_id=station.id, seq=seq, start=T0, duration=10.0))
    first, second = sessions(), sessions()
    try:
        early = claim_segments(first, 2)
        late = claim_segments(second, 2)  # SKIP LOCKED: the next two
        assert [g.seq for g in early] == [0, 1] and [g.seq for g in late] == [2, 3]
        assert take_stations(second, {station.id: late[0].id}) == set()
        unclaim(late)  # as the worker does: back to the queue, and its cycle ends
        second.commit()
        assert take_stations(first, {station.id: early[0].id}) == {station.id}
        # meanwhile the station is the first worker's: the second leaves it, without waiting
        late = claim_segments(second, 2)
        assert take_stations(second, {station.id: late[0].id}) == set()
        second.rollback()
        for seg in early:
            seg.status = "matched"
        first.commit()
        late = claim_segments(second, 2)
        assert [g.seq for g in late] == [2, 3]
        assert take_stations(second, {station.id: late[0].id}) == {station.id}
    finally:
        first.close()
        second.close()
        engine.dispose()
