"""A segment's time is when its audio aired, even after a reconnect (issue #16, item 1).

An Icecast server that bursts 8 s of buffered audio to every new listener (burst-on-connect,
as deployed stations do), fed in real time by ``ffmpeg -re`` from a known instant: the air
time of every second of the song is known. A real agent connects mid-song, is restarted
mid-song (it reconnects, and gets the burst again), and its segments are matched against the
song: each must be stamped with the time its audio aired, and the restart must neither
shift nor repeat the song (a repeat or a shift is what split the play in two).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values
from shared.chroma import fingerprint_pcm
from shared.schemas import SegmentV1
from tests.fixtures.streams import Hls, icecast
from tests.support.agentproc import AgentProcess, wait_for
from tests.support.audio import excerpt, pcm11k, track

pytestmark = pytest.mark.slow
BURST = 131072  # bytes: 8.2 s of the 128 kbit/s stream
SEGMENT_S = 10


def _config(workdir: Path, url: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "agent.toml"
    config.write_text(
        f'data_dir = "{workdir / "data"}"\n[buffer]\nexcerpt_hours = 0\n'
        f"[fingerprint]\nsegment_seconds = {SEGMENT_S}\n"
        f'[[stations]]\nslug = "ice"\nurl = "{url}"\nrate_variants_ppm = [0]\n'
    )
    return config


def _offsets(segments: list[SegmentV1], song: Path) -> list[tuple[datetime, float]]:
    """(stamped, offset) for each segment's first fingerprint value: its start as the agent
    stamped it, and where in the song the matcher finds its audio (seconds)."""
    index = CatalogIndex()
    index.add(1, fingerprint_pcm(pcm11k(song), 11025))
    index.build()
    out = []
    for seg in segments:
        fp = seg.decoded()[0]
        m = match_values(index, np.asarray(fp.values, dtype=np.uint32))
        assert m is not None and m.ber < 0.15, (seg.seq, m)
        out.append((fp.start, m.offset_s))
    return out


def _segments(agent: AgentProcess) -> list[SegmentV1]:
    rows = agent._query("SELECT payload FROM segments ORDER BY seq")
    return [SegmentV1.model_validate(json.loads(p)) for (p,) in rows]


def test_segments_are_stamped_with_air_time_across_a_restart(tmp_path: Path) -> None:
    song = excerpt(track(2), tmp_path / "song.mp3", 0, 110)
    with icecast(tmp_path / "ice", burst_size=BURST) as ice:
        ice.feed(song, "live.mp3", loop=False)
        fed_at = ice.fed_at["live.mp3"]
        config = _config(tmp_path / "agent", ice.url("live.mp3"))
        agent = AgentProcess(config)
        # the server has more than the burst to send by the time the agent connects
        wait_for(lambda: (datetime.now(fed_at.tzinfo) - fed_at).total_seconds() > 12, 20, "the song to play")
        try:
            agent.start()
            wait_for(lambda: agent.next_seq("ice") >= 3, 60, "three segments")
            assert agent.stop() == 0  # restarted mid-song: the new connection gets the burst again
            agent = AgentProcess(config)
            agent.start()
            wait_for(lambda: agent.next_seq("ice") >= 6, 60, "three more segments")
            assert agent.stop() == 0
        finally:
            agent.close()
        # `check`'s meter shows the burst as one line, then live seconds
        check = subprocess.run(
            [sys.executable, "-m", "edge_agent.cli", "--config", str(config), "check", "--seconds", "3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    segments = _segments(agent)
    full = [s for s in segments if s.duration >= SEGMENT_S - 0.5]
    assert len(full) >= 4, [s.duration for s in segments]
    up_at = ice.up_at["live.mp3"]
    for stamped, offset in _offsets(full, song):
        # the audio at `offset` aired `offset` s after ffmpeg began feeding, which was between
        # fed_at and up_at; it is stamped then, give or take the source's and the host's
        # latency, never a burst's length late (8 s, 9.6 s before this was fixed)
        aired_at_least, aired_at_most = fed_at + timedelta(seconds=offset), up_at + timedelta(seconds=offset)
        assert stamped > aired_at_least - timedelta(seconds=1.5), (stamped, aired_at_least)
        assert stamped < aired_at_most + timedelta(seconds=2.0), (stamped, aired_at_most)
    # the restart neither repeats audio (overlapping segments) nor leaves a hole in the song
    for before, after in itertools.pairwise(segments):
        end = before.start + timedelta(seconds=before.duration)
        gap = (after.start - end).total_seconds()
        assert -0.05 < gap < 3.0, (before.seq, after.seq, gap)
    lines = check.stdout.splitlines()
    assert any("the server had buffered, received at once" in line for line in lines), check.stdout
    assert sum(1 for line in lines if line.strip().endswith("#") or " dBFS  " in line) == 3, check.stdout


def test_hls_segments_are_stamped_with_air_time(tmp_path: Path) -> None:
    """HLS hands a new listener its playlist's last segments at once (6 s here), then a
    segment at a time: the same bounds place them when they aired."""
    song = excerpt(track(4), tmp_path / "song.mp3", 0, 80)
    hls = Hls(song, tmp_path / "hls")
    agent = AgentProcess(_config(tmp_path / "agent", hls.url))
    try:
        wait_for(lambda: (datetime.now(hls.fed_at.tzinfo) - hls.fed_at).total_seconds() > 12, 20, "segments")
        agent.start()
        wait_for(lambda: agent.next_seq("ice") >= 3, 60, "three segments")
        assert agent.stop() == 0
    finally:
        agent.close()
        hls.close()
    full = [s for s in _segments(agent) if s.duration >= SEGMENT_S - 0.5]
    assert len(full) >= 2
    for stamped, offset in _offsets(full, song):
        # a segment arrives once it is complete and the player reloads the playlist (every
        # target duration, 2-3 s): its audio is dated by that arrival, up to one reload late
        # (7.0 s late before this was fixed: the 3 segments of the live start and a reload)
        aired = hls.fed_at + timedelta(seconds=offset)
        assert -1.5 < (stamped - aired).total_seconds() < 4.5, (stamped, aired)
