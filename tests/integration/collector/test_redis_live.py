"""Live events through Redis: two collector processes on one database share one feed, one
numbering and one replay; Redis going away and coming back never stops the streams."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from collector.db.session import transaction
from collector.kv import RETRY_S
from collector.live.redis_broker import LEADER
from tests.fixtures.collector import Collector
from tests.fixtures.redis import RedisServer
from tests.integration.collector import test_live_events as without_redis
from tests.integration.collector.test_live_events import _events, _heartbeat, _ticket
from tests.support.docblocks import example
from tests.support.plays import add_play, seed
from tests.support.scrape import Scrape

Event = tuple[str, dict[str, object], str]


class Listener:
    """An analyst's open event stream on one process, read in a thread."""

    def __init__(self, c: Collector, analyst: str, last_event_id: int | None = None) -> None:
        self.events: list[Event] = []
        params: dict[str, object] = {"ticket": _ticket(c, analyst)}
        if last_event_id is not None:
            params["last_event_id"] = last_event_id
        self.thread = threading.Thread(target=self._read, args=(c.url, params), daemon=True)
        self.thread.start()

    def _read(self, url: str, params: dict[str, object]) -> None:
        try:
            with httpx.stream("GET", url + "/api/v1/events/stream", params=params, timeout=60) as r:
                for event in _events(r.iter_lines()):
                    self.events.append(event)
        except httpx.HTTPError:
            pass

    def states(self) -> list[tuple[str, int]]:
        return [(str(d["state"]), int(i)) for n, d, i in self.events if n == "station_status"]


def _metric(c: Collector, name: str, **labels: str) -> float:
    return Scrape(httpx.get(c.url + "/metrics", timeout=10).text).value(name, **labels) or 0.0


def _until(what: str, check: Callable[[], bool], timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _redis_env(tmp_path: Path, redis_server: RedisServer) -> dict[str, str]:
    config = tmp_path / "collector.toml"  # the guide's example, on the test's Redis
    config.write_text(example("ops/redis", "redis").replace(":6379/", f":{redis_server.port}/"))
    return {"SODAV_COLLECTOR_CONFIG": str(config)}


def _two_processes(url: str, tmp_path: Path, redis_server: RedisServer) -> tuple[Collector, Collector]:
    """Two collector processes on one database and one Redis, started."""
    env = _redis_env(tmp_path, redis_server)
    a, b = (Collector(url, tmp_path / n, extra_env=env) for n in ("a", "b"))
    for c in (a, b):
        c.workdir.mkdir()
        c.start()
    return a, b


def test_one_process_with_redis_streams_states_and_plays_as_without(
    database_url: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    """The live events' own test, through Redis: states, plays, ids in order, the replay."""
    c = Collector(database_url, tmp_path, extra_env=_redis_env(tmp_path, redis_server))
    c.start()
    try:
        without_redis.test_stream_follows_station_states_and_plays(c)
    finally:
        c.close()


def test_processes_share_live_events_through_redis_and_go_on_without_it(
    postgres_databases: Callable[[], str], tmp_path: Path, redis_server: RedisServer
) -> None:
    a, b = _two_processes(postgres_databases(), tmp_path, redis_server)
    try:
        a.add_station("rfm")
        agent = a.add_agent("box1", ["rfm"])
        analyst = a.add_user("ana", "analyst")
        on_a, on_b = Listener(a, analyst), Listener(b, analyst)
        _until("both snapshots", lambda: bool(on_a.states()) and bool(on_b.states()))

        _heartbeat(b, agent, "ok")  # arrives at one process; both streams hear it once, same id
        _until(
            "online on both", lambda: ("online" in dict(on_a.states())) and ("online" in dict(on_b.states()))
        )
        online_a = [i for s, i in on_a.states() if s == "online"]
        online_b = [i for s, i in on_b.states() if s == "online"]
        assert online_a == online_b and len(online_a) == 1

        # a browser reconnecting to the other process gets what it missed, not a snapshot
        again = Listener(a, analyst, last_event_id=online_a[0] - 1)
        _until("the replay", lambda: bool(again.events))
        assert again.states()[0] == ("online", online_a[0])
        time.sleep(3)  # the relay brings it too: the stream sends it once
        assert [i for _s, i in again.states()].count(online_a[0]) == 1

        redis_server.kill()  # each process feeds its own streams meanwhile
        _heartbeat(a, agent, "down")
        _until("stream_down on both", lambda: all("stream_down" in dict(x.states()) for x in (on_a, on_b)))
        _until("the log says so", lambda: "redis is down" in a.log() and "redis is down" in b.log())
        assert _metric(a, "sodav_redis_up") == 0
        assert _metric(a, "sodav_redis_failures_total", use="live events") >= 1

        redis_server.start()
        time.sleep(RETRY_S + 3)  # both processes try Redis again and take it back
        _heartbeat(b, agent, "ok")
        _until(
            "online again on both",
            lambda: all(len([s for s, _ in x.states() if s == "online"]) >= 2 for x in (on_a, on_b)),
        )
        back_a = [i for s, i in on_a.states() if s == "online"][-1]
        back_b = [i for s, i in on_b.states() if s == "online"][-1]
        assert back_a == back_b  # one numbering again
        assert _metric(a, "sodav_redis_up") == 1
        assert all("redis is back" in c.log() for c in (a, b))
    finally:
        for c in (a, b):
            c.close()


def test_a_play_written_while_the_feeding_process_dies_reaches_the_other_processes_streams(
    postgres_databases: Callable[[], str], tmp_path: Path, redis_server: RedisServer
) -> None:
    """The process that feeds every stream is killed; a play is written before the other one
    takes the feed over (its lease runs out first): the other's streams still get that play.
    Then Redis loses every key: the next play arrives all the same."""
    a, b = _two_processes(postgres_databases(), tmp_path, redis_server)
    try:
        with transaction(a.tx) as s:
            out = seed(s, stations=("rfm",))
        analyst = a.add_user("ana", "analyst")
        listeners = [Listener(c, analyst) for c in (a, b)]
        _until("both snapshots", lambda: all(x.states() for x in listeners))
        _until("a feed", lambda: redis_server.client().get(LEADER) is not None)
        leader = redis_server.client().get(LEADER).decode()
        feeding, other, on_other = (
            (a, b, listeners[1]) if leader.startswith(f"{a.proc.pid}-") else (b, a, listeners[0])
        )
        assert leader.startswith(f"{feeding.proc.pid}-"), leader
        time.sleep(3)  # it has read the database since the streams opened

        feeding.kill()  # without a word: its lease runs on for up to ten seconds
        with transaction(other.tx) as s:
            add_play(s, out, "rfm", "SOD-0004", datetime.now(UTC), 30.0, "open")

        today = datetime.now(UTC).strftime("%Y-%m-%d")

        def heard(ext: str) -> bool:  # a play of today's: the seeded ones are months old
            return any(
                n == "play" and d["external_id"] == ext and str(d["start_utc"]).startswith(today)
                for n, d, _i in on_other.events
            )

        _until("the play, once the other process feeds", lambda: heard("SOD-0004"), timeout=40)
        assert redis_server.client().get(LEADER).decode().startswith(f"{other.proc.pid}-")

        # Redis loses every key (evicted under maxmemory, or restarted without persistence):
        # the feeding process takes its lease again and goes on; the next play still arrives
        redis_server.client().flushall()
        with transaction(other.tx) as s:
            add_play(s, out, "rfm", "SOD-0003", datetime.now(UTC), 30.0, "open")
        _until("the play written after the keys were lost", lambda: heard("SOD-0003"))
    finally:
        for c in (a, b):
            c.close()
