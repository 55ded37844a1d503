"""``sodav-agent record``: a technician records what a sound card gives, and listens to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values
from shared.chroma import fingerprint_pcm
from tests.support.audio import track
from tests.support.soundcard import CARD_STATION, raw_card

pytestmark = pytest.mark.slow


def _agent(config: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_a_sound_card_recording_is_the_cards_audio(tmp_path: Path) -> None:
    raw, home = raw_card(track(8), tmp_path, 30)
    config = tmp_path / "agent.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n' + CARD_STATION)
    out = tmp_path / "fm-test.wav"
    res = _agent(config, home, "record", "fm", "--seconds", "12", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert f"{out}: 12.0 s of fm, mono 11025 Hz" in res.stdout
    info = soundfile.info(str(out))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, 11025)
    heard, rate = soundfile.read(str(out), dtype="int16")
    assert heard.size == 12 * 11025
    # what was written is the card's audio, from its start: the matcher finds it at offset ~0
    index = CatalogIndex()
    index.add(1, fingerprint_pcm(np.fromfile(raw, dtype=np.int16), 44100))
    index.build()
    m = match_values(index, fingerprint_pcm(heard, rate))
    assert m is not None and m.ber < 0.1 and abs(m.offset_s) < 1.0, m
    assert not list(tmp_path.glob("*.part"))


def test_recording_an_unknown_station_or_a_dead_source_says_what_to_do(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[health]\nstall_seconds = 2\n'
        '[[stations]]\nslug = "web"\nurl = "http://127.0.0.1:9/live.mp3"\n'
    )
    res = _agent(config, tmp_path, "record", "nope")
    assert res.returncode == 2
    assert "no station 'nope' in the configuration; stations: web" in res.stderr
    res = _agent(config, tmp_path, "record", "web", "--seconds", "3", "-o", str(tmp_path / "web.wav"))
    assert res.returncode == 1
    assert "web: unreachable" in res.stderr and "sodav-agent check --station web" in res.stderr
    assert not list(tmp_path.glob("web.wav*"))
