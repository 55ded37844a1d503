"""Ingest API against a real collector process, on PostgreSQL and SQLite."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from collector.ingest.models import Event, Segment, SegmentFingerprint
from tests.fixtures.collector import Collector
from tests.support.payloads import RECENT, segment, upload


def _count(c: Collector, model: type) -> int:
    with c.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _post(
    c: Collector, token: str | None, body: object, path: str = "/api/v1/uploads", **kw: object
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(c.url + path, json=body, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def test_upload_is_stored_once_and_repeats_are_ignored(collector: Collector) -> None:
    collector.add_station("rfm")
    token = collector.add_agent("box1", ["rfm"])
    body = upload("box1", [segment("rfm", i, rates=(0, 20000)) for i in range(5)])
    first = _post(collector, token, body)
    assert first.status_code == 200, first.text
    assert first.json()["accepted_segments"] == 5
    again = _post(collector, token, body)
    assert again.json() | {} == again.json()
    assert again.json()["accepted_segments"] == 0 and again.json()["duplicate_segments"] == 5
    assert _count(collector, Segment) == 5
    assert _count(collector, SegmentFingerprint) == 10
    with collector.session() as s:
        seqs = sorted(s.scalars(select(Segment.seq)))
        assert seqs == [0, 1, 2, 3, 4]
        assert set(s.scalars(select(Segment.status))) == {"new"}


def test_gzip_body_and_events_with_late_end(collector: Collector) -> None:
    collector.add_station("rfm")
    token = collector.add_agent("box1", ["rfm"])
    start = RECENT
    ev = {"station": "rfm", "kind": "outage", "seq": 0, "start": start.isoformat(), "reason": "disconnected"}
    raw = gzip.compress(json.dumps(upload("box1", [segment("rfm", 0)], [ev])).encode())
    r = httpx.post(
        collector.url + "/api/v1/uploads",
        content=raw,
        timeout=30,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 200, r.text
    closed = dict(ev, end=(start + timedelta(seconds=42)).isoformat())
    r = _post(collector, token, upload("box1", [], [closed], batch_id="b2"))
    assert r.json()["accepted_events"] == 1
    with collector.session() as s:
        events = list(s.scalars(select(Event)))
    assert len(events) == 1 and events[0].end == start + timedelta(seconds=42)


def test_rejections_have_codes_and_store_nothing(collector: Collector) -> None:
    collector.add_station("rfm")
    collector.add_station("other")
    token = collector.add_agent("box1", ["rfm"])
    good = upload("box1", [segment("rfm", 1)])

    r = _post(collector, None, good)
    assert r.status_code == 401 and r.json()["error"] == "MISSING_TOKEN"
    r = _post(collector, "sda_wrong", good)
    assert r.status_code == 401 and r.json()["error"] == "INVALID_TOKEN"
    r = _post(collector, token, upload("box1", [segment("rfm", 2), segment("other", 3)]))
    assert r.status_code == 403 and r.json()["error"] == "FORBIDDEN_STATION" and r.json()["code"] == 7
    r = _post(collector, token, upload("box1", [segment("rfm", 2), segment("rmf", 3)]))
    assert r.status_code == 403 and r.json()["error"] == "UNKNOWN_STATION" and r.json()["code"] == 9
    assert "'rmf'" in r.json()["message"] and "agent.toml" in r.json()["message"]
    bad = upload("box1", [segment("rfm", 4)])
    bad["segments"][0]["fingerprints"] = ["AAAA"]
    r = _post(collector, token, bad)
    assert r.status_code == 422 and r.json()["error"] == "INVALID_FINGERPRINT"
    assert r.json()["details"]
    r = _post(collector, token, {"schema_version": 2, "agent": "box1"})
    assert r.status_code == 422 and r.json()["error"] == "UNSUPPORTED_SCHEMA"
    r = httpx.post(
        collector.url + "/api/v1/uploads",
        content=b"{not json",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422 and r.json()["code"] == 1
    huge = upload("box1", [segment("rfm", i) for i in range(10)])
    huge["segments"][0]["padding"] = "x" * (9 * 1024 * 1024)
    r = _post(collector, token, huge)
    assert r.status_code == 413 and r.json()["error"] == "PAYLOAD_TOO_LARGE"
    assert _count(collector, Segment) == 0 and _count(collector, Event) == 0


def test_revoked_token_is_refused_at_once(collector: Collector) -> None:
    from collector.db.session import transaction
    from collector.fleet.service import revoke_agent

    collector.add_station("rfm")
    token = collector.add_agent("box1", ["rfm"])
    assert _post(collector, token, upload("box1", [segment("rfm", 1)])).status_code == 200
    with transaction(collector.tx) as s:
        assert revoke_agent(s, "box1") == 1
    r = _post(collector, token, upload("box1", [segment("rfm", 2)]))
    assert r.status_code == 401 and r.json()["error"] == "REVOKED_TOKEN"
    assert _count(collector, Segment) == 1


def test_enrollment_code_works_once_and_tokens_never_reach_the_log(collector: Collector) -> None:
    from collector.db.session import transaction
    from collector.fleet.service import create_agent

    collector.add_station("rfm")
    with transaction(collector.tx) as s:
        _, code = create_agent(s, "box2", ["rfm"])
    r = httpx.post(collector.url + "/api/v1/enroll", json={"code": code}, timeout=10)
    assert r.status_code == 200 and r.json()["stations"] == ["rfm"]
    token = r.json()["token"]
    r2 = httpx.post(collector.url + "/api/v1/enroll", json={"code": code}, timeout=10)
    assert r2.status_code == 401 and r2.json()["error"] == "INVALID_ENROLLMENT_CODE"
    me = httpx.get(
        collector.url + "/api/v1/agents/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.json() == {"agent": "box2", "stations": ["rfm"]}
    _post(collector, token, upload("box2", [segment("rfm", 1)]))
    log = collector.log()
    assert "upload agent=box2" in log
    assert token not in log and code not in log


def test_heartbeats_drive_station_status(collector: Collector) -> None:
    collector.add_station("rfm")
    collector.add_station("zik")
    token = collector.add_agent("box1", ["rfm", "zik"])
    analyst = collector.add_user("awa", "analyst")
    now = datetime.now(UTC)
    hb = {
        "schema_version": 1,
        "agent": "box1",
        "sent_at": now.isoformat(),
        "agent_version": "0.1.0",
        "queue_depth": 3,
        "sources": [
            {"station": "rfm", "state": "ok", "since": now.isoformat(), "level_dbfs": -12.5},
            {"station": "zik", "state": "down", "since": now.isoformat(), "detail": "HTTP 404"},
        ],
    }
    r = _post(collector, token, hb, path="/api/v1/heartbeats")
    assert r.status_code == 200, r.text
    r = httpx.get(
        collector.url + "/api/v1/stations/status", headers={"Authorization": f"Bearer {analyst}"}, timeout=10
    )
    states = {x["station"]: x for x in r.json()}
    assert states["rfm"]["state"] == "online" and states["rfm"]["level_dbfs"] == -12.5
    assert states["zik"]["state"] == "stream_down" and states["zik"]["detail"] == "HTTP 404"
    # an agent token may not read analyst endpoints
    r = httpx.get(
        collector.url + "/api/v1/stations/status", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 403
