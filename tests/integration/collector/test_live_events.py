"""Live events through a real collector: a one-use ticket opens the stream, which starts with every
station's state and then follows heartbeats and plays as they are written; a used, unknown or
revoked ticket is refused."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx

from collector.db.session import transaction
from collector.fleet import service
from tests.fixtures.collector import Collector
from tests.support.plays import add_play, seed


def _ticket(c: Collector, token: str) -> str:
    r = httpx.post(c.url + "/api/v1/events/tickets", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 201, r.text
    assert r.json()["ticket"].startswith("sdt_") and r.json()["expires_at"].endswith("Z")
    ticket: str = r.json()["ticket"]
    return ticket


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, object], str]]:
    """(event name, data, id) of each event in a server-sent event stream."""
    name, data, ident = "", "", ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line.startswith("id: "):
            ident = line[4:]
        elif line == "" and data:
            yield name, json.loads(data), ident
            name, data, ident = "", "", ""


def _heartbeat(c: Collector, token: str, state: str) -> None:
    now = datetime.now(UTC).isoformat()
    hb = {
        "schema_version": 1,
        "agent": "box1",
        "sent_at": now,
        "agent_version": "0.1.0",
        "queue_depth": 0,
        "sources": [{"station": "rfm", "state": state, "since": now, "level_dbfs": -12.0}],
    }
    r = httpx.post(
        c.url + "/api/v1/heartbeats", json=hb, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 200, r.text


def test_stream_follows_station_states_and_plays(collector: Collector) -> None:
    with transaction(collector.tx) as s:
        out = seed(s, stations=("rfm",))
    agent = collector.add_agent("box1", ["rfm"])
    analyst = collector.add_user("moussa", "analyst")
    ticket = _ticket(collector, analyst)
    url = collector.url + "/api/v1/events/stream"
    seen: list[tuple[str, dict[str, object], str]] = []
    with httpx.stream("GET", url, params={"ticket": ticket}, timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = _events(r.iter_lines())
        name, data, first_id = next(events)
        assert name == "station_status" and data["station"] == "rfm" and data["state"] == "never_seen"
        assert data["last_play"] is not None

        def later() -> None:
            time.sleep(1.0)  # the stream is open: what follows is news
            _heartbeat(collector, agent, "ok")
            time.sleep(3.0)
            _heartbeat(collector, agent, "down")
            with transaction(collector.tx) as s:
                add_play(s, out, "rfm", "SOD-0004", datetime.now(UTC), 30.0, "open")

        threading.Thread(target=later, daemon=True).start()
        for name, data, ident in events:
            seen.append((name, data, ident))
            states = [d["state"] for n, d, _ in seen if n == "station_status"]
            plays = [d for n, d, _ in seen if n == "play"]
            if "stream_down" in states and any(p["external_id"] == "SOD-0004" for p in plays):
                break
    states = [d["state"] for n, d, _ in seen if n == "station_status" and d["state"] != "never_seen"]
    assert states[:2] == ["online", "stream_down"]
    play = next(d for n, d, _ in seen if n == "play")
    assert play["station"] == "rfm" and play["status"] == "open" and play["flag"] is None
    ids = [int(i) for _n, _d, i in seen]
    assert ids == sorted(ids) and ids[0] > int(first_id)

    # reconnecting with the last id replays what was missed, from what the collector holds
    with httpx.stream(
        "GET", url, params={"ticket": _ticket(collector, analyst), "last_event_id": ids[0]}, timeout=30
    ) as r:
        name, data, ident = next(_events(r.iter_lines()))
        assert int(ident) == ids[1] and (name, data) == seen[1][:2]

    # a ticket opens one stream, once
    r = httpx.get(url, params={"ticket": ticket}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "INVALID_TOKEN"
    assert httpx.get(url, params={"ticket": "sdt_nope"}, timeout=10).status_code == 401
    ticket = _ticket(collector, analyst)
    with transaction(collector.tx) as s:
        service.revoke_user(s, "moussa")
    r = httpx.get(url, params={"ticket": ticket}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "REVOKED_TOKEN"
    r = httpx.post(
        collector.url + "/api/v1/events/tickets", headers={"Authorization": f"Bearer {agent}"}, timeout=10
    )
    assert r.status_code == 403


def test_an_open_stream_does_not_hold_up_a_restart(collector: Collector) -> None:
    collector.add_station("rfm")
    ticket = _ticket(collector, collector.add_user("awa", "analyst"))
    url = collector.url + "/api/v1/events/stream"
    with httpx.stream("GET", url, params={"ticket": ticket}, timeout=60) as r:
        assert next(_events(r.iter_lines()))[0] == "station_status"
        assert collector.proc is not None
        collector.proc.terminate()  # as systemctl restart does
        # on its own (uvicorn ends by re-raising the SIGTERM it handled), not killed
        assert collector.proc.wait(60) in (0, -signal.SIGTERM)
    assert "Finished server process" in collector.log()
