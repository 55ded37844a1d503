"""``/metrics`` on a real collector (``sodav-collector serve`` on 127.0.0.1): what an agent did
shows up by agent, station states and the queue come from the database, refusals are counted;
a real Prometheus (Debian's) scrapes it with the guide's configuration and loads the rules; a
separate worker serves its own port, and processes sharing PROMETHEUS_MULTIPROC_DIR add up.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.fixtures.collector import Collector, free_port, stop_process, worker_process
from tests.support import payloads
from tests.support.docblocks import example
from tests.support.scrape import Scrape

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "packaging" / "prometheus" / "sodav.rules.yml"


def scrape(url: str, token: str | None = None) -> Scrape:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.get(url, headers=headers, timeout=10)
    r.raise_for_status()
    return Scrape(r.text)


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout} s")


def heartbeat_online(agent: str, station: str) -> dict[str, object]:
    hb = payloads.heartbeat(agent)
    hb["sources"] = [
        {"station": station, "state": "ok", "since": datetime.now(UTC).isoformat(), "level_dbfs": -14.0}
    ]
    return hb


def test_metrics_tell_what_each_agent_did_and_what_the_database_holds(collector: Collector) -> None:
    collector.add_station("rfm-dakar")
    collector.add_station("zik-fm")
    token = collector.add_agent("dakar-01", ["rfm-dakar"])
    auth = {"Authorization": f"Bearer {token}"}
    r = httpx.post(
        f"{collector.url}/api/v1/heartbeats", json=heartbeat_online("dakar-01", "rfm-dakar"), headers=auth
    )
    assert r.status_code == 200, r.text
    segments = [payloads.segment("rfm-dakar", seq) for seq in range(3)]
    r = httpx.post(
        f"{collector.url}/api/v1/uploads", json=payloads.upload("dakar-01", segments), headers=auth
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{collector.url}/api/v1/uploads", json=payloads.upload("dakar-01", segments), headers=auth
    )
    assert r.json()["duplicate_segments"] == 3
    bad = httpx.post(f"{collector.url}/api/v1/uploads", json={}, headers={"Authorization": "Bearer sda_nope"})
    assert bad.status_code == 401

    m = scrape(f"{collector.url}/metrics")
    assert m.value("sodav_uploads_total", agent="dakar-01") == 2
    assert m.value("sodav_segments_received_total", agent="dakar-01") == 3  # duplicates not counted
    assert m.value("sodav_auth_failures_total", code="INVALID_TOKEN", route="/api/v1/uploads") == 1
    assert (
        m.value(
            "sodav_http_request_duration_seconds_count", method="POST", route="/api/v1/uploads", status="200"
        )
        == 2
    )
    assert m.value("sodav_database_up") == 1
    assert m.value("sodav_matching_queue_segments") == 3  # this collector runs no worker
    assert (m.value("sodav_matching_oldest_segment_age_seconds") or 0) > 0
    assert m.value("sodav_station_state", station="rfm-dakar", state="online") == 1
    assert m.value("sodav_station_state", station="rfm-dakar", state="silent") == 0
    assert m.value("sodav_station_state", station="zik-fm", state="never_seen") == 1
    assert m.value("sodav_fleet_agent_online", agent="dakar-01") == 1
    assert m.value("sodav_plays_last_hour", station="zik-fm") == 0
    assert m.value("sodav_notify_outbox", channel="webhook", status="failed") == 0
    assert "sodav_recognizer_budget_remaining" in m.names()  # declared, no samples yet

    r = httpx.get(f"{collector.url}/api/v1/nowhere/1234")
    assert r.status_code == 404
    m = scrape(f"{collector.url}/metrics")
    assert m.value("sodav_http_request_duration_seconds_count", route="unmatched", status="404") == 1
    assert "/api/v1/nowhere/1234" not in m.text  # raw paths never become labels


def test_metrics_want_the_token_when_one_is_set(database_url: str, tmp_path: Path) -> None:
    token_file = tmp_path / "metrics.token"
    token_file.write_text("m3trics-t0ken\n")
    token_file.chmod(0o600)
    c = Collector(database_url, tmp_path, extra_env={"SODAV_COLLECTOR_METRICS__TOKEN_FILE": str(token_file)})
    c.start()
    try:
        refused = httpx.get(f"{c.url}/metrics")
        assert refused.status_code == 401 and refused.json()["error"] == "INVALID_TOKEN"
        assert httpx.get(f"{c.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert scrape(f"{c.url}/metrics", "m3trics-t0ken").value("sodav_database_up") == 1
    finally:
        c.close()


@pytest.mark.slow
def test_a_real_prometheus_scrapes_with_the_guides_config_and_loads_the_rules(
    sqlite_url: str, tmp_path: Path
) -> None:
    token_file = tmp_path / "metrics.token"
    token_file.write_text("m3trics-t0ken\n")
    token_file.chmod(0o600)
    c = Collector(sqlite_url, tmp_path, extra_env={"SODAV_COLLECTOR_METRICS__TOKEN_FILE": str(token_file)})
    scrape_config = (
        example("ops/metrics", "prometheus-scrape")
        .replace("/etc/prometheus/sodav-metrics.token", str(token_file))
        .replace("127.0.0.1:8080", f"127.0.0.1:{c.port}")
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {RULES}\n" + scrape_config
    )
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    c.start()
    try:
        c.add_station("rfm-dakar")
        with (tmp_path / "prometheus.log").open("wb") as log:
            prometheus = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _check_prometheus(api)
        finally:
            prometheus.send_signal(signal.SIGTERM)
            prometheus.wait(30)
    finally:
        c.close()


def _check_prometheus(api: str) -> None:
    def query(q: str) -> list[dict[str, object]]:
        try:
            r = httpx.get(f"{api}/query", params={"query": q}, timeout=5)
        except httpx.HTTPError:
            return []
        result: list[dict[str, object]] = r.json()["data"]["result"] if r.status_code == 200 else []
        return result

    wait_for(
        "Prometheus sees the station", lambda: bool(query('sodav_station_state{state="never_seen"} == 1'))
    )
    (up,) = query('up{job="sodav-collector"}')
    assert up["value"][1] == "1"  # type: ignore[index]
    (station,) = query("sodav_station_state == 1")
    assert station["metric"]["station"] == "rfm-dakar"  # type: ignore[index]
    groups = httpx.get(f"{api}/rules", timeout=5).json()["data"]["groups"]
    assert {g["name"] for g in groups} == {"sodav-collector", "sodav-agents"}
    assert all(rule["health"] != "err" for g in groups for rule in g["rules"])


def _jobs(url: str) -> float:
    try:
        return scrape(url).value("sodav_report_jobs_total", job="airtime rollup", outcome="ok") or 0.0
    except httpx.HTTPError:
        return 0.0


@pytest.mark.slow
def test_a_separate_worker_serves_its_own_port(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    worker = worker_process(
        sqlite_url, tmp_path / "worker.log", {"SODAV_COLLECTOR_METRICS__WORKER_PORT": str(port)}
    )
    try:
        wait_for(
            "the worker's report jobs on its port", lambda: _jobs(f"http://127.0.0.1:{port}/metrics") > 0
        )
        m = scrape(f"http://127.0.0.1:{port}/metrics")
        assert m.value("sodav_database_up") is None  # the database facts are serve's, not counted twice
    finally:
        stop_process(worker)


@pytest.mark.slow
def test_processes_sharing_a_multiprocess_directory_add_up(sqlite_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    serve = Collector(sqlite_url, tmp_path, extra_env=env)  # its worker thread is off
    serve.start()
    worker = None
    try:
        worker = worker_process(sqlite_url, tmp_path / "worker.log", env)
        # serve runs no report job itself: what it shows is the worker process's count
        wait_for("the worker's counters in serve's /metrics", lambda: _jobs(f"{serve.url}/metrics") > 0)
        m = scrape(f"{serve.url}/metrics")
        assert m.value("sodav_database_up") == 1
        assert (
            m.value("sodav_http_request_duration_seconds_count", route="/metrics", status="200") or 0
        ) >= 1
        assert len(list(shared.glob("*.db"))) >= 2  # one file per process and kind
    finally:
        if worker is not None:
            stop_process(worker)
        serve.close()
