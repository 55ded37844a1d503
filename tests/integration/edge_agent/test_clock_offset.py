"""A box whose clock is off: the heartbeat measures it, the collector receives it, the technician sees it.

Play times come from the box's clock. The real collector runs with its clock 7 s ahead of
this machine's (libfaketime, LD_PRELOAD; monotonic clocks untouched); the agent's real
heartbeat loop talks to it over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.ingest.models import Heartbeat
from edge_agent import heartbeat
from edge_agent.buffer.outbox import Outbox
from edge_agent.client import CollectorClient
from edge_agent.config import AgentSettings
from tests.fixtures.collector import Collector
from tests.support.agentproc import agent_status

FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def test_a_clock_off_the_collectors_is_measured_and_said(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert FAKETIME.exists(), "libfaketime is missing: run ./dev setup"
    skewed = {"LD_PRELOAD": str(FAKETIME), "FAKETIME": "+7s", "DONT_FAKE_MONOTONIC": "1"}
    col = Collector(database_url, tmp_path / "collector", extra_env=skewed)
    col.workdir.mkdir()
    col.start()
    try:
        col.add_station("rfm")
        token = col.add_agent("box", ["rfm"])
        data = tmp_path / "agent"
        settings = AgentSettings.model_validate(
            {
                "data_dir": str(data),
                "name": "box",
                "collector": {"url": col.url},
                "stations": [{"slug": "rfm", "url": "http://127.0.0.1:9/stream"}],
            }
        )
        outbox = Outbox(settings.outbox_path)
        client = CollectorClient(settings, token)
        stop = threading.Event()

        def beat() -> None:  # every 0.2 s, no sources, directives ignored
            heartbeat.run_forever(client, outbox, list, lambda _d: None, 0.2, stop)

        loop = threading.Thread(target=beat, daemon=True)
        with caplog.at_level(logging.WARNING, logger="edge_agent.heartbeat"):
            loop.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with col.session() as s:
                    rows = s.scalars(select(Heartbeat).order_by(Heartbeat.id)).all()
                    payloads = [r.payload for r in rows]
                if len(payloads) >= 3:
                    break
                time.sleep(0.1)
            stop.set()
            loop.join(10)
        client.close()
        outbox.close()
    finally:
        col.close()

    # the first heartbeat cannot know; every later one carries the offset to the collector
    assert len(payloads) >= 3
    assert payloads[0]["clock_offset_ms"] is None
    offsets = [p["clock_offset_ms"] for p in payloads[1:]]
    assert all(6000 < o < 8000 for o in offsets), offsets
    # the agent's log says what is wrong and what to check
    warned = [r.getMessage() for r in caplog.records if "clock is" in r.getMessage()]
    assert warned and _seconds_off(warned[0]) and "chronyc tracking" in warned[0]
    # and so does `sodav-agent status`
    out = agent_status(data, tmp_path)
    line = next(x for x in out.splitlines() if x.startswith("clock"))
    assert _seconds_off(line) and "WRONG" in line, out


def _seconds_off(text: str) -> bool:
    """Whether ``text`` says the box is about 7 s behind (-6.9 to -7.1 under load: the two
    clocks are read over HTTP, a round trip apart)."""
    found = re.search(r"(-\d+\.\d+) s", text)
    return found is not None and -8.0 < float(found.group(1)) < -6.0
