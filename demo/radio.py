"""Simulated radio: mix real music and speech into a programme, then run a station chain.

The one radio chain behind ``./dev demo`` (demo/programme.py), the accuracy benchmark
(bench/accuracy/radio.py) and the tests that build a recording with known truth.

* :func:`decode` reads part of an audio file as mono float32 PCM at :data:`RATE`;
* :func:`speech` speaks a line with espeak-ng (cached by text and voice);
* :class:`Mixer` strings pieces together, with crossfades, and says where each started;
* :func:`broadcast` plays the programme through a :class:`Profile`: a speed change (pitch and
  tempo together, ffmpeg ``asetrate`` + ``aresample``), processing filters, optional hiss, and
  the station's encoder, as FM and web streams do.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 22050  # mixing rate; the chain resamples to 44.1 kHz before its encoder

__all__ = ["RATE", "Mixer", "Profile", "broadcast", "decode", "speech"]


@dataclass(frozen=True)
class Profile:
    """A station chain."""

    name: str
    speed: float  # 1.02 = 2 % fast, pitch and tempo together
    filters: str  # ffmpeg filters after the speed change
    noise_db: float | None  # white noise level in dBFS, None for none
    codec: list[str]  # ffmpeg output arguments
    ext: str


def decode(path: str | Path, begin: float, length: float) -> npt.NDArray[np.float32]:
    """``length`` seconds of ``path`` from ``begin``, mono float32 at :data:`RATE`."""
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-ss",
            f"{begin:.3f}",
            "-t",
            f"{length:.3f}",
            "-i",
            str(path),
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-f",
            "f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.float32).copy()


def speech(text: str, cache: Path, voice: str = "fr") -> npt.NDArray[np.float32]:
    """``text`` spoken by espeak-ng in ``voice``; the WAV is kept in ``cache`` for reruns."""
    cache.mkdir(parents=True, exist_ok=True)
    wav = cache / f"tts-{hashlib.sha256(f'{voice}:{text}'.encode()).hexdigest()[:12]}.wav"
    if not wav.exists():
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "155", "-w", str(wav), text], check=True, capture_output=True
        )
    return decode(wav, 0, 120) * 0.8


class Mixer:
    """Append pieces to a mono programme at :data:`RATE`; remembers where each started."""

    def __init__(self) -> None:
        self.parts: list[npt.NDArray[np.float32]] = []
        self.size = 0
        self.tail = np.zeros(0, dtype=np.float32)  # last samples, still open for a crossfade

    def add(self, audio: npt.NDArray[np.float32], crossfade: float = 0.0) -> int:
        """Add ``audio``; with ``crossfade`` seconds overlapping the end. Returns its first sample."""
        n = min(int(crossfade * RATE), self.tail.size, audio.size)
        if n:
            ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
            self.tail[-n:] = self.tail[-n:] * (1 - ramp) + audio[:n] * ramp
            audio = audio[n:]
        first = self.size - n
        self.parts.append(self.tail)
        self.tail = audio.copy()
        self.size += audio.size
        return first

    def pcm(self) -> npt.NDArray[np.float32]:
        return np.concatenate([*self.parts, self.tail])


def broadcast(programme: npt.NDArray[np.float32], profile: Profile, out: Path, seed: int = 0) -> Path:
    """Run the programme through the station chain into ``out/<profile.name>.<profile.ext>``."""
    pcm = programme.copy()
    if profile.noise_db is not None:
        rng = np.random.default_rng(seed)
        pcm += (rng.standard_normal(pcm.size) * 10 ** (profile.noise_db / 20)).astype(np.float32)
    pcm16 = (np.clip(pcm, -1, 1) * 32767).astype("<i2")
    path = out / f"{profile.name}.{profile.ext}"
    chain = f"asetrate={RATE}*{profile.speed},aresample=44100,{profile.filters}"
    codec = profile.codec if "-c:a" in profile.codec else ["-c:a", "libmp3lame", *profile.codec]
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "s16le",
            "-ar",
            str(RATE),
            "-ac",
            "1",
            "-i",
            "-",
            "-af",
            chain,
            *codec,
            str(path),
        ],
        input=pcm16.tobytes(),
        check=True,
    )
    return path
