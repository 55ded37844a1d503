"""The agent's own metrics, as node_exporter's textfile collector would read them; and a
journal that shows what matters (no line per HTTP request)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.collector import Collector
from tests.support.agentproc import AgentProcess, agent_config, wait_for
from tests.support.audio import excerpt, track

pytestmark = pytest.mark.slow


def _metrics(path: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of the file, by metric name then labels, through Prometheus' own parser."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_the_metrics_textfile_says_how_the_agent_is_doing(collector: Collector, tmp_path: Path) -> None:
    collector.add_station("rfm")
    token = collector.add_agent("box1", ["rfm"])
    clip = excerpt(track(5), tmp_path / "clip.mp3", 0, 60)
    config = agent_config(tmp_path / "agent", "box1", collector.url, token, {})
    prom = tmp_path / "textfile" / "sodav-agent.prom"
    prom.parent.mkdir()
    text = config.read_text().replace(
        "[fingerprint]", f'[metrics]\ntextfile = "{prom}"\ninterval_s = 1\n[fingerprint]'
    )
    config.write_text(
        text + f'[[stations]]\nslug = "rfm"\npath = "{clip}"\nrealtime = true\nrate_variants_ppm = [0]\n'
    )
    agent = AgentProcess(config).start()
    try:

        def uploaded() -> bool:
            m = _metrics(prom) if prom.exists() else {}
            return bool(m.get("sodav_agent_last_upload_timestamp_seconds"))

        wait_for(uploaded, 40, "an upload in the metrics")
        m = _metrics(prom)
        assert agent.stop() == 0
    finally:
        agent.close()
    rfm = (("station", "rfm"),)
    assert m["sodav_agent_info"] == {(("agent", "box1"), ("version", "0.1.0")): 1.0}
    assert m["sodav_agent_source_state"][(("state", "ok"), ("station", "rfm"))] == 1.0
    assert m["sodav_agent_source_state"][(("state", "down"), ("station", "rfm"))] == 0.0
    assert -40 < m["sodav_agent_source_level_dbfs"][rfm] < 0
    assert m["sodav_agent_source_reconnects_total"][rfm] == 0.0
    assert m["sodav_agent_upload_ok"][()] == 1.0
    assert abs(m["sodav_agent_last_upload_timestamp_seconds"][()] - time.time()) < 30
    assert m["sodav_agent_outbox_segments"][()] >= 0 and m["sodav_agent_outbox_parked"][()] == 0
    assert m["sodav_agent_segments_written_total"][()] >= 1
    assert m["sodav_agent_dropped_total"][(("what", "excerpts"),)] == 0
    assert not list(prom.parent.glob(".*.tmp"))  # written atomically, nothing left behind
    log = agent.log()
    assert "uploaded segments=" in log
    assert "HTTP Request:" not in log  # httpx's line per request stays out of the journal
