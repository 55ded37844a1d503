"""A sound card through PortAudio: an ALSA ``type file`` PCM replays a known file bit-exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values
from edge_agent.buffer.outbox import Outbox
from shared.chroma import fingerprint_pcm
from shared.schemas import SegmentV1
from tests.support.audio import track
from tests.support.soundcard import CARD_STATION, raw_card

pytestmark = pytest.mark.slow


def test_soundcard_capture_fingerprints_match_the_file(tmp_path: Path) -> None:
    raw, home = raw_card(track(8), tmp_path, 40)
    config = tmp_path / "agent.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[buffer]\nexcerpt_hours = 0\n'
        "[fingerprint]\ndefault_rate_variants_ppm = [0]\n" + CARD_STATION
    )
    env = dict(os.environ, HOME=str(home), SODAV_AGENT_CONFIG=str(config))
    devices = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "devices"], env=env, capture_output=True, text=True
    )
    assert "sodavtest" in devices.stdout
    agent = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(25)
    agent.send_signal(signal.SIGTERM)
    out = agent.communicate(timeout=30)[0].decode()
    assert agent.returncode == 0, out
    outbox = Outbox(tmp_path / "data" / "outbox.sqlite")
    rows = [SegmentV1.model_validate_json(p) for (p,) in outbox.db.execute("SELECT payload FROM segments")]
    outbox.close()
    assert len(rows) >= 2
    reference = fingerprint_pcm(np.fromfile(raw, dtype=np.int16)[::4].copy(), 11025)
    index = CatalogIndex()
    index.add(1, fingerprint_pcm(np.fromfile(raw, dtype=np.int16), 44100))
    index.build()
    offsets = []
    for seg in rows[:2]:
        fp = seg.decoded()[0]
        m = match_values(index, fp.values)
        assert m is not None and m.ber < 0.1, m
        offsets.append(m.offset_s - (fp.start - rows[0].decoded()[0].start).total_seconds())
    # the card replays the file from its beginning, in step with the capture clock
    assert abs(offsets[0] - offsets[1]) < 0.3
    assert abs(offsets[0]) < 1.0
    assert reference.size > 0
