"""The last play before a station's audio stops becomes final, and reaches the reports.

A play used to become final only when the same station sent more audio after it, so a station
whose stream ended kept its last play open for good, out of the relevé and the airtime
reports (issue #16, item 2). Real music cut as an agent cuts it, matched and assembled by the
collector's own code (:mod:`tests.support.airplay`), on PostgreSQL and SQLite; the worker's
sweep (:func:`collector.worker.close_quiet_plays`) runs at chosen instants. A play closes on
an outage, on a silence, and after a wall-clock delay when nothing more arrives; a station
whose agent says ``ok`` over digital silence is ``silent``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collector.db import locks
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.fleet.models import Agent
from collector.fleet.service import agent_heard
from collector.ingest.models import Heartbeat
from collector.ingest.service import store_upload
from collector.plays.closing import WAIT_FOR_BACKLOG
from collector.reports import distribution
from collector.reports.periods import parse_period
from collector.worker import CLOSING_JOB, close_quiet_plays
from shared.schemas import SourceStatusV1, UploadV1
from tests.fixtures.collector import Collector
from tests.support.airplay import SONG_AT, SONG_S, SR, OnAir, at, radio, run
from tests.support.payloads import upload

SONG_END = SONG_AT + SONG_S  # the stream stops right after the song


@pytest.fixture(scope="module")
def broadcast(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    return radio(tmp_path_factory.mktemp("radio"))


@pytest.fixture
def on_air(database_url: str, broadcast: tuple[Path, np.ndarray]) -> Iterator[OnAir]:
    engine = make_engine(database_url)
    try:
        yield OnAir(make_sessionmaker(engine), broadcast[0])
    finally:
        engine.dispose()


def _event(factory: sessionmaker[Session], kind: str, start: datetime, end: datetime | None = None) -> None:
    """An event as the agent uploads it."""
    event = {"station": "rfm", "kind": kind, "seq": 1, "start": start.isoformat()}
    if end is not None:
        event["end"] = end.isoformat()
    if kind == "outage":
        event["reason"] = "disconnected"
    with transaction(factory) as s:
        agent = s.scalars(select(Agent)).one()
        store_upload(
            s, agent, UploadV1.model_validate(upload("box1", [], [event])), {"rfm": agent.stations[0].id}
        )


def _heartbeat(factory: sessionmaker[Session], at_: datetime, queue_depth: int) -> None:
    """A heartbeat of the station's agent received at ``at_``, as the collector stores it."""
    with transaction(factory) as s:
        agent = s.scalars(select(Agent)).one()
        src = SourceStatusV1(station="rfm", state="ok", since=at_, level_dbfs=-14.0)  # type: ignore[arg-type]
        s.add(
            Heartbeat(agent_id=agent.id, received_at=at_, sent_at=at_, payload={"queue_depth": queue_depth})
        )
        agent_heard(s, agent, "test", [src], {"rfm": agent.stations[0].id}, at_)


def _statuses(on_air: OnAir) -> list[str]:
    return [p.status for p in on_air.plays()]


def _in_the_relevé(on_air: OnAir) -> int:
    with on_air.factory() as s:
        table, _meta = distribution.playlist(s, "rfm", parse_period("2026-04-06", "UTC"), "en")
    return len(table.rows)


def test_a_play_closes_when_the_stream_goes_down(on_air: OnAir, broadcast: tuple[Path, np.ndarray]) -> None:
    on_air.receive(run(broadcast[1], 0, SONG_END))
    assert _statuses(on_air) == ["open"] and _in_the_relevé(on_air) == 0
    _event(on_air.factory, "outage", at(SONG_END))  # the stream ended: down, still down
    assert close_quiet_plays(on_air.factory, now=at(SONG_END + 20)) == 0  # a reconnect may still follow
    assert close_quiet_plays(on_air.factory, now=at(SONG_END + 60)) == 1
    assert _statuses(on_air) == ["final"] and _in_the_relevé(on_air) == 1


def test_a_play_closes_on_silence(on_air: OnAir, broadcast: tuple[Path, np.ndarray]) -> None:
    song_then_nothing = np.concatenate([broadcast[1][: int(SONG_END * SR)], np.zeros(60 * SR, np.int16)])
    on_air.receive(run(song_then_nothing, 0, SONG_END + 60))  # the agent goes on sending digital silence
    assert close_quiet_plays(on_air.factory, now=at(SONG_END + 60)) == 0
    _event(on_air.factory, "silence", at(SONG_END))  # opened by the agent after 30 s below -50 dBFS
    assert close_quiet_plays(on_air.factory, now=at(SONG_END + 60)) == 1
    assert _statuses(on_air) == ["final"] and _in_the_relevé(on_air) == 1


def test_a_play_closes_when_nothing_more_arrives(on_air: OnAir, broadcast: tuple[Path, np.ndarray]) -> None:
    on_air.receive(run(broadcast[1], 0, SONG_END))  # then the source stalls: no event, no audio
    received = datetime.now(UTC)
    later = received + timedelta(minutes=6)
    assert close_quiet_plays(on_air.factory, now=later) == 0  # the agent may hold a backlog
    _heartbeat(on_air.factory, received + timedelta(minutes=3), queue_depth=0)
    assert close_quiet_plays(on_air.factory, now=later) == 0  # not yet heard long enough after
    _heartbeat(on_air.factory, received + timedelta(minutes=5, seconds=30), queue_depth=0)
    assert close_quiet_plays(on_air.factory, now=later) == 1  # its agent has nothing more to send
    assert _statuses(on_air) == ["final"] and _in_the_relevé(on_air) == 1


def test_a_play_waits_for_an_unheard_agent_then_closes(
    on_air: OnAir, broadcast: tuple[Path, np.ndarray]
) -> None:
    on_air.receive(run(broadcast[1], 0, SONG_END))
    received = datetime.now(UTC)
    _heartbeat(on_air.factory, received + timedelta(minutes=6), queue_depth=12)  # a backlog to upload
    assert close_quiet_plays(on_air.factory, now=received + timedelta(hours=1)) == 0
    assert close_quiet_plays(on_air.factory, now=received + WAIT_FOR_BACKLOG + timedelta(minutes=1)) == 1
    assert _statuses(on_air) == ["final"]


def test_a_station_on_digital_silence_is_silent(collector: Collector) -> None:
    collector.add_station("rfm")
    collector.add_station("zik")
    token = collector.add_agent("box1", ["rfm", "zik"])
    analyst = collector.add_user("awa", "analyst")
    now = datetime.now(UTC).isoformat()
    hb = {
        "schema_version": 1,
        "agent": "box1",
        "sent_at": now,
        "agent_version": "0.1.0",
        "queue_depth": 0,
        "sources": [
            {"station": "rfm", "state": "ok", "since": now, "level_dbfs": -99.6},  # the field's reading
            {"station": "zik", "state": "ok", "since": now, "level_dbfs": -62.0},  # a quiet passage
        ],
    }
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        httpx.post(collector.url + "/api/v1/heartbeats", json=hb, headers=auth, timeout=10).status_code == 200
    )
    r = httpx.get(
        collector.url + "/api/v1/stations/status", headers={"Authorization": f"Bearer {analyst}"}, timeout=10
    )
    states = {x["station"]: x for x in r.json()}
    assert states["rfm"]["state"] == "silent" and "digital silence" in states["rfm"]["detail"]
    assert states["zik"]["state"] == "online"


@pytest.mark.backends("postgresql")
def test_a_sweep_never_waits_for_a_busy_station_and_one_worker_sweeps_at_a_time(
    on_air: OnAir, broadcast: tuple[Path, np.ndarray]
) -> None:
    """Several workers: a station another worker is rebuilding is left to that rebuild (the
    sweep does not queue behind it), and while one worker sweeps the others go on matching."""
    on_air.receive(run(broadcast[1], 0, SONG_END))
    _event(on_air.factory, "outage", at(SONG_END))
    sweep_at = at(SONG_END + 60)

    def sweep_in_time() -> int:
        done: list[int] = []
        sweeper = threading.Thread(
            target=lambda: done.append(close_quiet_plays(on_air.factory, now=sweep_at))
        )
        sweeper.start()
        sweeper.join(timeout=60)
        assert done, "the sweep waited for a lock another worker holds"
        return done[0]

    with on_air.factory() as other:  # another worker, holding the station for its cycle
        station_id = other.scalars(select(Agent)).one().stations[0].id
        locks.lock(other, locks.STATION, station_id)
        assert sweep_in_time() == 0
        other.rollback()
    with on_air.factory() as other:  # another worker, sweeping
        locks.lock(other, locks.JOB, CLOSING_JOB)
        assert sweep_in_time() == 0
        other.rollback()
    assert sweep_in_time() == 1
    assert _statuses(on_air) == ["final"]
