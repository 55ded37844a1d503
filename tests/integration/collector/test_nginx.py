"""The guide's nginx example (docs/ops/scaling.md) in front of two ``serve`` instances on one
PostgreSQL database: the agents' uploads and heartbeats and the web application's live events
go through it, and keep going when one instance stops."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from collector.ingest.models import Segment
from tests.fixtures.collector import Collector, free_port
from tests.fixtures.nginx import NGINX, nginx_config, wait_answering
from tests.support.payloads import heartbeat, segment, upload

pytestmark = pytest.mark.slow


@pytest.fixture
def nginx_in_front(
    postgres_databases: Callable[[], str], tmp_path: Path
) -> Iterator[tuple[str, list[Collector]]]:
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed: ./dev setup installs Debian's nginx")
    url = postgres_databases()
    instances = [Collector(url, tmp_path / f"serve{n}") for n in range(2)]
    for c in instances:
        c.workdir.mkdir()
    listen = free_port()
    conf = nginx_config(tmp_path / "nginx", listen, (instances[0].port, instances[1].port))
    check = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path / "nginx")], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(tmp_path / "nginx")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with ThreadPoolExecutor() as pool:  # started together, as a deployment does
            list(pool.map(Collector.start, instances))
        front = f"http://127.0.0.1:{listen}"
        wait_answering(front, tmp_path / "nginx")
        yield front, instances
    finally:
        proc.terminate()
        proc.wait(10)
        for c in instances:
            c.close()


def test_the_guides_nginx_spreads_the_work_and_survives_an_instance(
    nginx_in_front: tuple[str, list[Collector]],
) -> None:
    front, instances = nginx_in_front
    first = instances[0]
    first.add_station("rfm")
    token = first.add_agent("box1", ["rfm"])  # enrolled on one instance, known to both
    analyst = first.add_user("awa", "analyst")
    agent = httpx.Client(base_url=front, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    web = httpx.Client(base_url=front, headers={"Authorization": f"Bearer {analyst}"}, timeout=30)
    with agent, web:
        sent = 0
        for n in range(10):
            r = agent.post("/api/v1/uploads", json=upload("box1", [segment("rfm", n)], batch_id=f"b{n}"))
            assert r.status_code == 200, r.text
            sent += 1
        # both instances answered uploads (nginx takes them in turn)
        assert all("upload agent=box1" in c.log() for c in instances)

        # the live events through the proxy: the snapshot arrives at once, unbuffered
        ticket = web.post("/api/v1/events/tickets").json()["ticket"]
        with agent.stream("GET", "/api/v1/events/stream", params={"ticket": ticket}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            seen = []
            while "event: station_status" not in seen:
                seen.append(next(lines))

        instances[1].stop()  # an instance goes away: the other takes everything
        for n in range(10, 20):
            r = agent.post("/api/v1/uploads", json=upload("box1", [segment("rfm", n)], batch_id=f"b{n}"))
            assert r.status_code == 200, r.text
            sent += 1
        assert agent.post("/api/v1/heartbeats", json=heartbeat("box1")).status_code == 200
        assert web.get("/api/v1/stations/status").json()[0]["station"] == "rfm"
    with first.session() as s:
        assert s.scalar(select(func.count()).select_from(Segment)) == sent
