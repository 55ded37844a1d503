"""A real stream → a real ``sodav-agent run`` → a real collector, on PostgreSQL and SQLite.

What a user checks: every segment the agent cut arrives exactly once (the agent's seqs
0..n-1 are the collector's rows for (agent, station), no gap, no duplicate), also when the
collector is SIGKILLed and restarted mid-upload and when the link is cut and restored; a
revoked token parks the batches with the reason instead of deleting them; ``status`` and
``check`` say what is wrong and what to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from collector.fleet.models import Agent
from collector.ingest.models import Event, Segment
from tests.fixtures.collector import Collector, free_port
from tests.fixtures.streams import ffmpeg_http
from tests.support.agentproc import AgentProcess, agent_config, cli, wait_for
from tests.support.audio import excerpt, track
from tests.support.payloads import RECENT, segment, upload
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.slow

STATION = "rfm"


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[str]:
    """60 s of real music served over HTTP at 3× real time (about 20 s of wall clock)."""
    audio = excerpt(track(5), tmp_path / "radio.mp3", 20, 60)
    with ffmpeg_http(audio, readrate=3.0) as url:
        yield url


def _collector_seqs(c: Collector, agent: str, station: str = STATION) -> list[int]:
    with c.session() as s:
        agent_id = s.scalar(select(Agent.id).where(Agent.name == agent))
        return sorted(s.scalars(select(Segment.seq).where(Segment.agent_id == agent_id)))


def _run_agent(tmp_path: Path, c: Collector, url: str, stream: str, token: str | None = None) -> AgentProcess:
    c.add_station(STATION)
    token = token or c.add_agent("box1", [STATION])
    config = agent_config(tmp_path / "agent", "box1", url, token, {STATION: stream})
    assert (tmp_path / "agent" / "token").stat().st_mode & 0o777 == 0o600
    return AgentProcess(config).start()


def _assert_exactly_once(agent: AgentProcess, c: Collector) -> int:
    """Wait until the agent's queue is empty and the stream is over, then compare seqs."""
    wait_for(lambda: "source problem" in agent.log(), 60, "the end of the stream")
    wait_for(lambda: agent.queued() == [] and agent.next_seq(STATION) > 0, 60, "the queue to drain")
    assert agent.stop() == 0
    n = agent.next_seq(STATION)
    seqs = _collector_seqs(c, "box1")
    assert len(seqs) == len(set(seqs)), "a segment was stored twice"
    assert seqs == list(range(n)), f"gaps or extras: agent cut 0..{n - 1}, collector has {seqs}"
    assert agent.queued() == [] and agent.parked() == []
    return n


# one stream run for the plain path and the collector's crash (they were two tests, four stream
# runs with both databases): the uploads before the kill and after the restart are the plain path
def test_every_segment_arrives_exactly_once_also_when_the_collector_is_killed_mid_upload(
    tmp_path: Path, collector: Collector, stream: str
) -> None:
    agent = _run_agent(tmp_path, collector, collector.url, stream)
    try:
        wait_for(lambda: len(_collector_seqs(collector, "box1")) >= 3, 30, "first uploads")
        collector.kill()  # SIGKILL while the agent keeps uploading every half second
        wait_for(lambda: "upload failed, retrying" in agent.log(), 15, "the agent to notice")
        assert agent.status()["upload_error"]["kind"] == "unreachable"
        time.sleep(1.0)
        collector.start()  # same port, same database
        n = _assert_exactly_once(agent, collector)
        assert n >= 25  # 60 s of audio in 2 s segments
        assert "uploads work again" in agent.log()
        st = agent.status()
        assert st["queue_depth"] == 0 and st["last_upload"] is not None and st["upload_error"] is None
        assert st["last_heartbeat"]["agent"] == "box1"
        assert "last upload" in agent.status_text()
    finally:
        agent.close()


@pytest.mark.backends("sqlite")  # the agent's retries: the same on both databases
def test_link_cut_and_restored(tmp_path: Path, collector: Collector, stream: str) -> None:
    with TcpProxy(collector.port) as link:
        agent = _run_agent(tmp_path, collector, link.url, stream)
        try:
            wait_for(lambda: len(_collector_seqs(collector, "box1")) >= 2, 30, "first uploads")
            link.cut("reset")  # connections dropped, new ones reset
            wait_for(lambda: (agent.status().get("upload_error") or {}).get("kind") == "unreachable", 15)
            text = agent.status_text()
            assert "collector  UNREACHABLE since" in text and "check the network" in text
            held = len(agent.queued())
            link.restore()
            wait_for(lambda: agent.status()["upload_error"] is None, 15, "uploads to resume")
            link.cut("blackhole")  # a link that swallows packets: only the agent's timeout tells
            wait_for(lambda: (agent.status().get("upload_error") or {}).get("kind") == "unreachable", 20)
            assert "collector timed out: no answer within 3 s" in agent.log()
            link.restore()
            _assert_exactly_once(agent, collector)
            assert link.refused > 0 and held > 0  # segments waited while the link was down
        finally:
            agent.close()


def _collector_cli(c: Collector, *args: str) -> subprocess.CompletedProcess[str]:
    """``sodav-collector ...`` as the admin runs it, on the collector's database."""
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=c.database_url)
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def _revoke(c: Collector, name: str) -> subprocess.CompletedProcess[str]:
    return _collector_cli(c, "agents", "revoke", name)


@pytest.mark.backends("sqlite")  # the agent parking batches: the same on both databases
def test_revoked_token_parks_batches_with_the_reason(
    tmp_path: Path, collector: Collector, stream: str
) -> None:
    agent = _run_agent(tmp_path, collector, collector.url, stream)
    try:
        wait_for(lambda: len(_collector_seqs(collector, "box1")) >= 2, 30, "first uploads")
        out = _revoke(collector, "box1")
        assert "revoked" in out.stdout
        wait_for(lambda: agent.parked() != [], 15, "a parked batch")
        stored = _collector_seqs(collector, "box1")
        wait_for(lambda: "source problem" in agent.log(), 60, "the end of the stream")
        time.sleep(1.5)  # the last segments meet the same answer
        st = agent.status()
        assert st["parked"] > 0 and st["queue_depth"] == 0
        assert any("REVOKED_TOKEN (6)" in r for r in st["parked_reasons"]), st["parked_reasons"]
        text = agent.status_text()
        assert "PARKED" in text and "REVOKED_TOKEN" in text and "fix the cause" in text
        # parked, not deleted: every seq is either at the collector or still in the outbox
        n = agent.next_seq(STATION)
        assert sorted(stored + agent.parked()) == list(range(n))
        assert _collector_seqs(collector, "box1") == stored
        # refused at once: a 401 is not retried with backoff
        log = agent.log()
        assert "parked" in log and "REVOKED_TOKEN" in log
        assert "retrying" not in log.split("parked", 1)[1]
        assert agent.stop() == 0
    finally:
        agent.close()

    # the fix `status` asks for: a new enrollment code, `sodav-agent enroll`, a restart
    code = _collector_cli(collector, "agents", "enroll-code", "box1").stdout.rsplit(":", 1)[1].strip()
    token_file = agent.workdir / "token"
    res = cli(agent.config, "enroll", collector.url, code, "--token-file", str(token_file))
    assert res.returncode == 0, res.stderr
    assert token_file.stat().st_mode & 0o777 == 0o600
    agent = AgentProcess(agent.config).start()  # the stream is over: only the parked rows remain
    try:
        wait_for(lambda: agent.parked() == [] and agent.queued() == [], 30, "parked rows to be sent")
        wait_for(lambda: len(_collector_seqs(collector, "box1")) == n, 30, "the collector to have all")
        assert agent.stop() == 0
    finally:
        agent.close()
    assert _collector_seqs(collector, "box1") == list(range(n))
    assert "parked row(s) put back in the upload queue" in agent.log()


@pytest.mark.backends("sqlite")  # what `check` says: the same on both databases
def test_check_reports_collector_and_token(tmp_path: Path, collector: Collector) -> None:
    collector.add_station(STATION)
    token = collector.add_agent("box1", [STATION])
    good = agent_config(tmp_path / "good", "box1", collector.url, token, {})
    res = cli(good, "check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "reachable" in res.stdout and "token accepted: agent box1" in res.stdout
    assert "all good" in res.stdout

    wrong = agent_config(tmp_path / "wrong", "box1", collector.url, "not-the-token", {})
    res = cli(wrong, "check")
    assert res.returncode != 0
    assert "token refused" in res.stdout and "INVALID_TOKEN" in res.stdout
    assert "sodav-agent enroll" in res.stdout  # what to do next

    down = agent_config(tmp_path / "down", "box1", f"http://127.0.0.1:{free_port()}", token, {})
    res = cli(down, "check")
    assert res.returncode != 0
    assert "collector unreachable" in res.stdout and "check the network" in res.stdout

    _revoke(collector, "box1")
    res = cli(good, "check")
    assert res.returncode != 0
    assert "REVOKED_TOKEN" in res.stdout and "new enrollment code" in res.stdout


def _post_upload(c: Collector, token: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        c.url + "/api/v1/uploads", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def test_a_batch_resent_while_the_first_copy_is_in_flight(collector: Collector) -> None:
    """The agent gave up waiting (timeout_s) and sent the batch again while the collector was
    still storing the first copy: every copy is answered 2xx, everything is stored once."""
    collector.add_station(STATION)
    token = collector.add_agent("box1", [STATION])
    start = RECENT
    for round_no in range(3):
        segs = [segment(STATION, 20 * round_no + i) for i in range(20)]
        events = [
            {
                "station": STATION,
                "kind": "metadata",
                "seq": 10 * round_no + i,
                "start": start.isoformat(),
                "title": f"title {i}",
            }
            for i in range(10)
        ] + [
            {
                "station": STATION,
                "kind": "outage",
                "seq": round_no,
                "start": start.isoformat(),
                "end": (start + timedelta(seconds=30)).isoformat(),
                "reason": "disconnected",
            }
        ]
        bodies = [upload("box1", segs, events, batch_id=f"b{round_no}-{i}") for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda body: _post_upload(collector, token, body), bodies))
        assert [a.status_code for a in answers] == [200] * 8, [a.text[:200] for a in answers]
        assert sum(a.json()["accepted_segments"] for a in answers) == 20
    assert _collector_seqs(collector, "box1") == list(range(60))
    with collector.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 33
