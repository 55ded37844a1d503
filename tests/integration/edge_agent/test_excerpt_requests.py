"""A real agent answers the collector's excerpt requests: the audio asked for, or why it is gone.

First ``sodav-agent run`` replays a recording into its excerpt store (two minutes of a
song, captured ten minutes ago); then the daemon runs against a collector stand-in that
asks, in its acknowledgements, for what the design needs: an excerpt it keeps, one it keeps
in part, one older than it keeps, one it never captured, the same one twice, and one
malformed. The audio uploaded must be that song at that time (its fingerprint against the
source's), each *gone* must say why, and nothing is answered twice.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from collector.audio import decode_file
from collector.fpmath import aligned_ber
from shared.chroma import fingerprint_pcm
from shared.schemas import ExcerptGone, ExcerptRequestV1
from tests.support.agentproc import AgentProcess, cli, file_agent_config, wait_for, write_token
from tests.support.audio import excerpt, pcm11k, track
from tests.support.collector_standin import CollectorStandin

pytestmark = pytest.mark.slow
RATE = 11025
TOKEN = "agent-token-for-excerpts"


def _replayed(tmp_path: Path, start: datetime) -> tuple[Path, np.ndarray]:
    """Two minutes of track 3 replayed by a real agent into its excerpt store; (data dir, PCM)."""
    source = excerpt(track(3), tmp_path / "source.wav", 20, 120, codec="wav")
    (tmp_path / "replay").mkdir()
    config = file_agent_config(
        tmp_path / "replay", source, excerpt_hours=48, start=start.isoformat().replace("+00:00", "Z")
    )
    res = cli(config, "run", timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return tmp_path / "replay" / "data", pcm11k(source)


def _daemon_config(workdir: Path, data: Path, url: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    token = write_token(workdir / "token", TOKEN)
    lines = [
        'name = "box"',
        f'data_dir = "{data}"',
        "[collector]",
        f'url = "{url}"',
        f'token_file = "{token}"',
        "heartbeat_interval_s = 0.5",
        "timeout_s = 5",
        "[buffer]",
        "excerpt_hours = 48",
        "[health]",
        "reconnect_initial_s = 0.5",
        "reconnect_max_s = 1",
        # a station off the air: the daemon keeps running, its capture keeps retrying
        "[[stations]]",
        'slug = "rfm"',
        'url = "http://127.0.0.1:9/off-air"',
    ]
    path = workdir / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_agent_uploads_what_it_keeps_and_says_what_is_gone(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    t0 = (now - timedelta(minutes=10)).replace(microsecond=0)
    data, source = _replayed(tmp_path, t0)
    asks = {
        "kept": (t0 + timedelta(seconds=50), 20),  # inside the first minute's file and the next
        "part": (t0 + timedelta(seconds=110), 30),  # the last 10 s of the recording, then nothing
        "old": (now - timedelta(hours=49), 20),  # older than the 48 h the agent keeps
        "down": (now - timedelta(minutes=5), 20),  # the station was not captured then
    }
    with CollectorStandin(TOKEN) as collector:
        for rid, (start, seconds) in asks.items():
            collector.ask(
                ExcerptRequestV1(id=rid, station="rfm", start=start, end=start + timedelta(seconds=seconds))
            )
        collector.ask({"id": "bad", "station": "rfm", "start": t0.isoformat(), "end": t0.isoformat()})
        agent = AgentProcess(_daemon_config(tmp_path / "daemon", data, collector.url)).start()
        try:
            wait_for(lambda: set(asks) <= set(collector.answers), 60, "the four answers")
            # asked again (the collector had not seen the answer yet): not answered twice
            collector.ask(ExcerptRequestV1(id="kept", station="rfm", start=t0, end=t0 + timedelta(seconds=5)))
            beats = collector.heartbeats
            wait_for(lambda: collector.heartbeats >= beats + 3, 30, "three more heartbeats")
        finally:
            assert agent.stop() == 0
            log = agent.log()
    assert collector.invalid == []
    assert {rid: len(a) for rid, a in collector.answers.items()} == dict.fromkeys(asks, 1)
    assert "bad" not in collector.answers and "excerpt request ignored" in log

    kept = collector.answers["kept"][0]
    assert kept.gone is None and kept.audio is not None and kept.agent == "box" and kept.station == "rfm"
    assert kept.start == asks["kept"][0] and kept.end == asks["kept"][0] + timedelta(seconds=20)
    audio = tmp_path / "kept.ogg"
    audio.write_bytes(base64.b64decode(kept.audio))
    got = decode_file(audio)
    assert abs(got.size / RATE - 20) < 0.1
    # the audio of the station at that time: its fingerprint is the source's, 50 s in
    ours, theirs = fingerprint_pcm(got, RATE), fingerprint_pcm(source[50 * RATE : 70 * RATE], RATE)
    ber, overlap = min(aligned_ber(ours, theirs, off) for off in range(-3, 4))
    assert ber < 0.15 and overlap > 120

    part = collector.answers["part"][0]
    assert part.gone is None and part.start == asks["part"][0]
    assert part.end is not None and abs((part.end - (t0 + timedelta(seconds=120))).total_seconds()) < 0.5

    old, down = collector.answers["old"][0], collector.answers["down"][0]
    assert (old.gone, down.gone) == (ExcerptGone.EXPIRED, ExcerptGone.NOT_CAPTURED)
    assert old.audio is None and down.kept_from == t0
    assert (
        down.kept_to is not None and abs((down.kept_to - (t0 + timedelta(seconds=120))).total_seconds()) < 0.5
    )
    assert "excerpt kept uploaded: 20.0 s" in log and "excerpt old: gone (expired)" in log
