"""Real music and speech files for tests, from Debian's free game soundtrack packages."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

HEDGEWARS = "/usr/share/games/hedgewars/Data/Music"
# excerpts already encoded, shared by the tests (and pytest-xdist workers) that cut the same one:
# the same ffmpeg command on the same file makes the same bytes
CACHE = Path(tempfile.gettempdir()) / f"sodav-test-excerpts-{os.getuid()}"


def track(i: int) -> Path:
    files = sorted(glob.glob(f"{HEDGEWARS}/*.ogg"))
    assert len(files) > i, "hedgewars-data is missing: run ./dev setup"
    return Path(files[i])


def excerpt(
    src: Path, out: Path, begin: float, length: float, af: str | None = None, codec: str = "mp3"
) -> Path:
    args = ["-c:a", "libmp3lame", "-b:a", "128k"] if codec == "mp3" else ["-c:a", "pcm_s16le"]
    cmd = ["-ss", str(begin), "-t", str(length), "-i", str(src), *(["-af", af] if af else []), "-ar", "44100"]
    cmd += args
    source, encoder = src.stat(), Path(shutil.which("ffmpeg") or "ffmpeg").stat()
    key = repr((cmd, source.st_size, source.st_mtime_ns, encoder.st_mtime_ns, out.suffix))
    cached = CACHE / (hashlib.sha256(key.encode()).hexdigest()[:32] + out.suffix)
    if not cached.exists():
        CACHE.mkdir(exist_ok=True)
        part = cached.with_name(f"{cached.stem}.{os.getpid()}-{threading.get_ident()}.part{out.suffix}")
        subprocess.run(["ffmpeg", "-v", "error", "-y", *cmd, str(part)], check=True)
        part.replace(cached)  # whole or not at all, when two workers cut the same excerpt
    shutil.copyfile(cached, out)
    return out


def concat(parts: list[Path], out: Path) -> Path:
    """The parts one after the other, as one MP3 (a programme: songs, talk, more songs)."""
    inputs = [arg for part in parts for arg in ("-i", str(part))]
    graph = "".join(f"[{i}:a]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[out]"
    encode = ["-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", str(out)]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]", *encode],
        check=True,
    )
    return out


def silence(out: Path, seconds: float) -> Path:
    """``seconds`` of digital silence (a break in a song, dead air), as a WAV file."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=stereo",
            "-t",
            str(seconds),
            str(out),
        ],
        check=True,
    )
    return out


def speech(out: Path, text: str, voice: str = "fr") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(out), text], check=True, capture_output=True)
    return out


def pcm11k(path: Path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "11025", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16)
