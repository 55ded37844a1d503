"""An unexpected server failure still answers the v1 error body, with code 99 (INTERNAL)."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from tests.fixtures.collector import Collector
from tests.support.payloads import heartbeat


def test_a_broken_database_gives_a_coded_500(collector: Collector) -> None:
    collector.add_station("rfm")
    token = collector.add_agent("box", ["rfm"])
    with collector.engine.begin() as conn:
        conn.execute(text("DROP TABLE heartbeats"))
    hb = heartbeat("box")
    r = httpx.post(
        collector.url + "/api/v1/heartbeats", json=hb, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 500
    assert r.json()["code"] == 99 and r.json()["error"] == "INTERNAL"
    assert "retry later" in r.json()["message"]
    assert token not in collector.log()
    assert "unexpected error on POST /api/v1/heartbeats" in collector.log()
