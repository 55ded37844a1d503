"""A sound card without a kernel sound card: ALSA's ``type file`` PCM replays raw audio.

PortAudio (through sounddevice) reads it bit-exactly; ``sodav-agent devices`` lists it
as ``sodavtest`` when ``HOME`` points at the directory given here (see DEVELOPERS.md).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# the [[stations]] block of a station that captures that card at 44.1 kHz
CARD_STATION = '[[stations]]\nslug = "fm"\ndevice = "sodavtest"\ndevice_sample_rate = 44100\n'


def raw_card(source: Path, workdir: Path, seconds: float, rate: int = 44100) -> tuple[Path, Path]:
    """(raw file, home directory): ``seconds`` of ``source`` as mono s16le at ``rate``, and a
    HOME whose ``.asoundrc`` defines the card ``sodavtest`` that plays it."""
    raw = workdir / "in.raw"
    convert = ["-i", str(source), "-t", str(seconds), "-ac", "1", "-ar", str(rate), "-f", "s16le"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *convert, str(raw)], check=True)
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(
        f'pcm.sodavtest {{\n type file\n slave.pcm "null"\n file "/dev/null"\n'
        f' infile "{raw}"\n format "raw"\n}}\n'
    )
    return raw, home
