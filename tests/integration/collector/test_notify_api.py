"""Notifications through a real collector (``sodav-collector serve``) and its command line:
webhooks are for admins and show their secret once; each analyst sees their own report
subscriptions; a receiver that holds its request open never holds up matching.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from collector.ingest.models import Segment
from collector.notify.models import Delivery, StationNotice
from tests.fixtures.collector import Collector
from tests.support import payloads
from tests.support.receiver import Receiver


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_webhooks_are_for_admins_and_show_their_secret_once(collector: Collector) -> None:
    admin, analyst = collector.add_user("root", "admin"), collector.add_user("awa", "analyst")
    api = f"{collector.url}/api/v1"
    body = {"url": "https://erp.sodav.test/hooks", "events": ["play.final", "station.state"]}
    refused = httpx.post(f"{api}/webhooks", json=body, headers=bearer(analyst))
    assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN_ROLE"

    created = httpx.post(f"{api}/webhooks", json=body, headers=bearer(admin))
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["play.final", "station.state"]
    listed = httpx.get(f"{api}/webhooks", headers=bearer(admin)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

    bad = httpx.post(f"{api}/webhooks", json={**body, "url": "erp.sodav.test"}, headers=bearer(admin))
    assert bad.status_code == 422 and "not an http(s) URL" in bad.json()["message"]
    bad = httpx.post(f"{api}/webhooks", json={**body, "events": ["play.started"]}, headers=bearer(admin))
    assert bad.status_code == 422 and bad.json()["error"] == "MALFORMED_PAYLOAD"

    ping = httpx.post(f"{api}/webhooks/{hook['id']}/ping", headers=bearer(admin))
    assert ping.status_code == 202
    log = httpx.get(f"{api}/deliveries", params={"status": "pending"}, headers=bearer(admin)).json()
    assert [(d["id"], d["event"], d["webhook"], d["attempts"]) for d in log] == [
        (ping.json()["delivery"], "ping", hook["id"], 0)
    ]
    replay = httpx.post(f"{api}/deliveries/replay", json={"ids": [log[0]["id"]]}, headers=bearer(admin))
    assert replay.json() == {"queued": 1}
    assert httpx.delete(f"{api}/webhooks/{hook['id']}", headers=bearer(admin)).status_code == 204
    assert httpx.get(f"{api}/deliveries", headers=bearer(admin)).json() == []  # its log went with it
    missing = httpx.delete(f"{api}/webhooks/{hook['id']}", headers=bearer(admin))
    assert missing.status_code == 404 and "webhooks list" in missing.json()["message"]


def test_each_analyst_sees_and_removes_only_their_own_report_subscriptions(collector: Collector) -> None:
    collector.add_station("rfm-dakar")
    admin = collector.add_user("root", "admin")
    awa, moussa = collector.add_user("awa", "analyst"), collector.add_user("moussa", "analyst")
    url = f"{collector.url}/api/v1/reports/subscriptions"
    mine = {
        "email": "awa@sodav.test",
        "report": "playlist",
        "station": "rfm-dakar",
        "format": "pdf",
        "lang": "en",
    }
    created = httpx.post(url, json=mine, headers=bearer(awa))
    assert created.status_code == 201, created.text
    sub = created.json()
    assert (sub["station"], sub["format"], sub["lang"]) == ("rfm-dakar", "pdf", "en")
    again = httpx.post(url, json=mine, headers=bearer(awa))
    assert again.status_code == 422 and "already receives" in again.json()["message"]
    no_station = httpx.post(url, json={**mine, "station": None}, headers=bearer(awa))
    assert no_station.status_code == 422 and "playlists are made per station" in no_station.json()["message"]

    assert httpx.get(url, headers=bearer(moussa)).json() == []
    assert [s["id"] for s in httpx.get(url, headers=bearer(admin)).json()] == [sub["id"]]
    assert httpx.delete(f"{url}/{sub['id']}", headers=bearer(moussa)).status_code == 404
    assert httpx.delete(f"{url}/{sub['id']}", headers=bearer(awa)).status_code == 204
    assert httpx.get(url, headers=bearer(admin)).json() == []


@pytest.mark.slow
def test_matching_goes_on_while_a_receiver_holds_its_request(database_url: str, tmp_path: Path) -> None:
    receiver = Receiver(answers=["hang"])
    c = Collector(
        database_url,
        tmp_path,
        extra_env={
            "SODAV_COLLECTOR_WORKER__ENABLED": "true",
            "SODAV_COLLECTOR_NOTIFY__INTERVAL_S": "0.5",
            "SODAV_COLLECTOR_NOTIFY__TIMEOUT_S": "90",
        },
    )
    c.start()
    try:
        c.add_station("rfm-dakar")
        token = c.add_agent("dakar-01", ["rfm-dakar"])
        admin = c.add_user("root", "admin")
        body = {"url": receiver.url, "events": ["station.state"]}
        assert httpx.post(f"{c.url}/api/v1/webhooks", json=body, headers=bearer(admin)).status_code == 201

        def scalar(stmt):  # type: ignore[no-untyped-def]
            with c.session() as s:
                return s.scalar(stmt)

        wait_for(
            "the station's first state recorded",
            lambda: scalar(select(func.count(StationNotice.station_id))) == 1,
        )
        hb = payloads.heartbeat("dakar-01")
        hb["sources"] = [{"station": "rfm-dakar", "state": "ok", "since": datetime.now(UTC).isoformat()}]
        assert httpx.post(f"{c.url}/api/v1/heartbeats", json=hb, headers=bearer(token)).status_code == 200
        wait_for("the receiver holding the state change", lambda: receiver.hanging == 1)

        segments = [payloads.segment("rfm-dakar", seq) for seq in range(5)]
        up = httpx.post(
            f"{c.url}/api/v1/uploads", json=payloads.upload("dakar-01", segments), headers=bearer(token)
        )
        assert up.status_code == 200 and up.json()["accepted_segments"] == 5
        wait_for(
            "the segments matched while the receiver still holds its request",
            lambda: scalar(select(func.count()).where(Segment.status.in_(("matched", "unmatched")))) == 5,
        )
        assert not receiver.release.is_set()
        assert scalar(select(Delivery.status)) == "pending"

        receiver.release.set()
        wait_for(
            "the state change delivered once answered", lambda: scalar(select(Delivery.status)) == "delivered"
        )
    finally:
        receiver.close()
        c.close()


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SODAV_COLLECTOR_DATABASE_URL": database_url, "SODAV_COLLECTOR_ENVIRONMENT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_the_commands_manage_webhooks_subscriptions_and_replays(sqlite_url: str) -> None:
    database_url = sqlite_url  # the commands' wording; the queries behind them run on both backends above

    def ok(*args: str) -> str:
        done = _cli(database_url, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ok("stations", "add", "rfm-dakar")
    added = ok(
        "webhooks", "add", "https://erp.sodav.test/hooks", "--events", "play.final", "--stations", "rfm-dakar"
    )
    assert "webhook 1 created" in added and "signing secret (shown once" in added and "whsec_" in added
    listed = ok("webhooks", "list")
    assert "https://erp.sodav.test/hooks" in listed and "rfm-dakar" in listed and "whsec_" not in listed
    assert "ping queued as delivery 1" in ok("webhooks", "ping", "1")
    log = ok("webhooks", "log", "--status", "pending").splitlines()
    assert log[0].split()[:5] == ["ID", "CHANNEL", "EVENT", "TO", "STATUS"]
    assert log[1].split()[:5] == ["1", "webhook", "ping", "1", "pending"]
    assert "1 deliveries queued again" in ok("webhooks", "replay", "1")

    for args, message in [
        (("webhooks", "add", "ftp://x/y", "--events", "play.final"), "not an http(s) URL"),
        (("webhooks", "replay"), "name deliveries to replay"),
        (
            ("subscriptions", "add", "x@sodav.test", "--report", "airtime", "--station", "rfm-dakar"),
            "covers all stations",
        ),
    ]:
        done = _cli(database_url, *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)

    assert "subscription 1: a@sodav.test receives the playlist report (rfm-dakar, pdf, message in en)" in ok(
        "subscriptions",
        "add",
        "a@sodav.test",
        "--report",
        "playlist",
        "--station",
        "rfm-dakar",
        "--format",
        "pdf",
        "--lang",
        "en",
    )
    assert "a@sodav.test" in ok("subscriptions", "list")
    ok("subscriptions", "remove", "1")
    ok("webhooks", "remove", "1")
    assert ok("webhooks", "log").splitlines()[1:] == []
