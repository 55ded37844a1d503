"""What an agent may send, and what is refused with a 4xx and a stable code (issue #16, items 9-11).

Against a real collector on PostgreSQL and SQLite. The agent retries any 5xx for ever and
parks a batch on a 4xx, so every bad input below must be a 4xx: never a 500, never stored.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from collector.fleet.models import StationStatus
from collector.ingest.models import Event, Heartbeat, Segment
from shared.codec import FingerprintSegment, encode
from tests.fixtures.collector import Collector
from tests.support.payloads import RECENT, heartbeat, segment, upload


def _post(c: Collector, token: str, body: Any, path: str = "/api/v1/uploads") -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        c.url + path,
        content=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=60,
    )


def _gzip_post(c: Collector, token: str, raw: bytes) -> httpx.Response:
    return httpx.post(
        c.url + "/api/v1/uploads",
        content=raw,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
        timeout=60,
    )


def _count(c: Collector, model: type) -> int:
    with c.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def box(collector: Collector) -> str:
    collector.add_station("rfm")
    return collector.add_agent("box1", ["rfm"])


@pytest.fixture(scope="module")
def shared_box(module_collector: Collector) -> str:
    """The agent of the parametrized refusals below: each stores nothing (which each checks),
    so they share one collector per backend instead of starting one per case."""
    module_collector.add_station("rfm")
    return module_collector.add_agent("box1", ["rfm"])


def _refused(r: httpx.Response, error: str) -> dict[str, Any]:
    assert r.status_code == 422, (r.status_code, r.text[:500])
    body: dict[str, Any] = r.json()
    assert body["error"] == error, body
    return body


def test_segment_times_far_from_the_collectors_clock_are_refused(collector: Collector, box: str) -> None:
    """A segment near 0001-01-01 or 9999-12-31 once stopped all matching for good."""
    for start in (
        datetime(1, 1, 1, 0, 5, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 50, tzinfo=UTC),
        datetime.now(UTC) - timedelta(days=400),
        datetime.now(UTC) + timedelta(hours=2),
    ):
        r = _post(collector, box, upload("box1", [segment("rfm", 1, start=start)]))
        body = _refused(r, "TIME_OUT_OF_RANGE")
        assert body["code"] == 15 and "clock" in body["message"]
        assert body["details"][0]["loc"] == ["segments", "0", "start"]
    # an event's times too
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    ev = {"station": "rfm", "kind": "silence", "seq": 0, "start": old}
    _refused(_post(collector, box, upload("box1", [], [ev])), "TIME_OUT_OF_RANGE")
    assert _count(collector, Segment) == 0 and _count(collector, Event) == 0
    # yesterday's backlog is welcome
    r = _post(collector, box, upload("box1", [segment("rfm", 1, start=RECENT)]))
    assert r.status_code == 200, r.text


def test_a_time_that_overflows_when_made_utc_is_a_422(collector: Collector, box: str) -> None:
    seg = segment("rfm", 1)
    seg["start"] = "0001-01-01T00:00:00+01:00"
    body = _refused(_post(collector, box, upload("box1", [seg])), "MALFORMED_PAYLOAD")
    assert body["details"][0]["loc"] == ["segments", "0", "start"]
    hb = heartbeat("box1") | {"sent_at": "0001-01-01T00:00:00+01:00"}
    _refused(_post(collector, box, hb, "/api/v1/heartbeats"), "MALFORMED_PAYLOAD")


def test_a_fingerprint_start_outside_its_segment_is_refused(collector: Collector, box: str) -> None:
    seg = segment("rfm", 1)
    far = datetime(9999, 12, 31, tzinfo=UTC)
    fp = FingerprintSegment(np.arange(80, dtype=np.uint32), far, 11025, 110250)
    seg["fingerprints"] = [base64.b64encode(encode(fp)).decode()]
    body = _refused(_post(collector, box, upload("box1", [seg])), "INVALID_FINGERPRINT")
    assert "outside its segment" in json.dumps(body["details"])


def test_an_amplified_fingerprint_is_refused_before_it_is_decoded(collector: Collector, box: str) -> None:
    """30 blobs of 2**20 values each for a 10-s segment gzip to under 1 KB."""
    zeros = FingerprintSegment(np.zeros(1 << 20, dtype=np.uint32), RECENT, 11025, 110250)
    blob = base64.b64encode(encode(zeros)).decode()
    seg = segment("rfm", 1, start=RECENT) | {"fingerprints": [blob]}
    raw = gzip.compress(json.dumps(upload("box1", [seg])).encode())
    body = _refused(_gzip_post(collector, box, raw), "INVALID_FINGERPRINT")
    assert "values" in json.dumps(body["details"]) and "10.0 s" in json.dumps(body["details"])
    # each within the bound of a one-hour segment, but too many for one upload altogether
    values = np.zeros(29_000, dtype=np.uint32)
    blobs = [
        base64.b64encode(encode(FingerprintSegment(values, RECENT, 11025, 11025 * 3600, rate))).decode()
        for rate in range(0, 16_000, 1000)
    ]
    segs = [segment("rfm", i, start=RECENT) | {"duration": 3600.0, "fingerprints": blobs} for i in range(10)]
    raw = gzip.compress(json.dumps(upload("box1", segs)).encode())
    body = _refused(_gzip_post(collector, box, raw), "INVALID_FINGERPRINT")
    assert "one upload" in json.dumps(body["details"])
    assert _count(collector, Segment) == 0


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b["segments"].append(dict(b["segments"][0])), id="same-seq-twice"),
        pytest.param(lambda b: b["segments"][0].update(seq=2**63), id="seq-2**63"),
        pytest.param(lambda b: b["events"][0].update(seq=2**63), id="event-seq-2**63"),
        pytest.param(lambda b: b["events"][0].update(title="a\x00b"), id="nul-in-title"),
        pytest.param(lambda b: b["events"][0].update(detail="\x00"), id="nul-in-detail"),
        pytest.param(lambda b: b.update(batch_id="b\x00"), id="nul-in-batch-id"),
        pytest.param(lambda b: b.pop("schema_version"), id="no-schema-version"),
        pytest.param(lambda b: b["segments"][0].update(level_dbfs=float("nan")), id="nan-level"),
    ],
)
def test_bad_uploads_are_422_and_store_nothing(
    module_collector: Collector, shared_box: str, mutate: Any
) -> None:
    ev = {"station": "rfm", "kind": "metadata", "seq": 0, "start": RECENT.isoformat(), "title": "x"}
    body = upload("box1", [segment("rfm", 1, start=RECENT)], [ev])
    mutate(body)
    r = _post(module_collector, shared_box, json.dumps(body).encode())  # json.dumps writes NaN as NaN
    _refused(r, "MALFORMED_PAYLOAD")
    assert _count(module_collector, Segment) == 0 and _count(module_collector, Event) == 0


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda h: h.update(agent_version="0.1\x00"), id="nul-in-agent-version"),
        pytest.param(lambda h: h.update(clock_offset_ms=float("nan")), id="nan-clock-offset"),
        pytest.param(lambda h: h.update(clock_offset_ms=float("inf")), id="infinite-clock-offset"),
        pytest.param(lambda h: h.pop("schema_version"), id="no-schema-version"),
        pytest.param(lambda h: h.update(queue_depth=2**63), id="queue-depth-2**63"),
    ],
)
def test_bad_heartbeats_are_422_and_store_nothing(
    module_collector: Collector, shared_box: str, mutate: Any
) -> None:
    hb = heartbeat("box1")
    hb["sources"] = [{"station": "rfm", "state": "ok", "since": RECENT.isoformat()}]
    mutate(hb)
    r = _post(module_collector, shared_box, json.dumps(hb).encode(), "/api/v1/heartbeats")
    _refused(r, "MALFORMED_PAYLOAD")
    assert _count(module_collector, Heartbeat) == 0


def test_heartbeat_source_text_is_cut_to_length_and_loses_its_nul(collector: Collector, box: str) -> None:
    """What a stream says about itself never gets a heartbeat refused (the agent builds it with
    the same model), and never reaches the database unbounded or with a NUL."""
    hb = heartbeat("box1")
    src = {"station": "rfm", "state": "down", "since": RECENT.isoformat()}
    hb["sources"] = [
        src | {"detail": "HTTP 404\x00" + "x" * 5000, "icy_title": "t" * 5000, "codec": "c" * 500}
    ]
    r = _post(collector, box, hb, "/api/v1/heartbeats")
    assert r.status_code == 200, r.text
    with collector.session() as s:
        stored = s.scalars(select(Heartbeat.payload)).one()["sources"][0]
        detail = s.scalars(select(StationStatus.detail)).one()
    assert detail == stored["detail"] and detail.startswith("HTTP 404x") and len(detail) == 2048
    assert len(stored["icy_title"]) == 1024 and len(stored["codec"]) == 64


def test_only_whole_single_gzip_members_are_accepted(collector: Collector, box: str) -> None:
    good = gzip.compress(json.dumps(upload("box1", [segment("rfm", 1, start=RECENT)])).encode())
    second = gzip.compress(json.dumps(upload("box1", [segment("rfm", 2, start=RECENT)])).encode())
    raw_deflate = zlib.compress(json.dumps(upload("box1", [])).encode())
    for bad, why in (
        (good[:-4], "trailer cut"),
        (good[:-8], "trailer cut"),
        (good + b"garbage", "trailing garbage"),
        (good + second, "second member"),
        (raw_deflate, "not gzip"),
    ):
        r = _gzip_post(collector, box, bad)
        assert r.status_code == 422 and r.json()["error"] == "MALFORMED_PAYLOAD", (why, r.text)
        assert "gzip" in r.json()["message"]
    assert _count(collector, Segment) == 0
    assert _gzip_post(collector, box, good).status_code == 200
