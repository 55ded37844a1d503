"""Real music for the benchmarks: the Debian game soundtracks the project allows.

``broadcast_mp3`` concatenates wesnoth tracks into one 128 kbit/s stereo MP3, the format
most stations stream; files are cached by name so reruns skip the encoding. Encoding,
decoding and segmenting show a progress bar on stderr (demo/progress.py).
"""

from __future__ import annotations

import glob
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from shared.progress import Progress

WESNOTH = "/usr/share/games/wesnoth/1.16/data/core/music"
PACKAGES = [
    WESNOTH,
    "/usr/share/games/hedgewars/Data/Music",
    "/usr/share/games/supertux2/music",
    "/usr/share/games/frozen-bubble/snd",
    "/usr/share/games/freedroidrpg/sound/music",
]
CACHE = Path(tempfile.gettempdir()) / "sodav-bench"


def tracks() -> list[Path]:
    """Every music file of the allowed packages, sorted (deterministic)."""
    found: list[Path] = []
    for root in PACKAGES:
        for ext in ("ogg", "mp3", "flac", "wav"):
            found += [Path(p) for p in glob.glob(f"{root}/**/*.{ext}", recursive=True)]
    files = sorted(set(found))
    if not files:
        raise SystemExit("no music found: install wesnoth-1.16-music (run ./dev setup)")
    return files


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip())


def broadcast_tracks(minutes: float) -> list[Path]:
    """The wesnoth tracks (jingles left out) that ``broadcast_mp3(minutes)`` strings together."""
    chosen: list[Path] = []
    total = 0.0
    for p in sorted(glob.glob(f"{WESNOTH}/*.ogg")):
        if total >= minutes * 60:
            break
        d = duration(Path(p))
        if d < 60:  # jingles
            continue
        chosen.append(Path(p))
        total += d
    if not chosen:
        raise SystemExit(f"no music in {WESNOTH}: install wesnoth-1.16-music (run ./dev setup)")
    return chosen


def ffmpeg(args: list[str], seconds: float, what: str) -> None:
    """Run ``ffmpeg ARGS`` with a progress bar over the ``seconds`` of audio it writes."""
    cmd = ["ffmpeg", "-v", "error", "-nostats", "-progress", "pipe:1", *args]
    bar = Progress(what, round(seconds), " s")
    # stderr kept aside: some tracks make the vorbis decoder chatter ("overread")
    with tempfile.TemporaryFile() as err:
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit():
                    bar.update(min(seconds, int(value) / 1e6))
        if proc.returncode:
            err.seek(0)
            tail = err.read()[-1500:].decode(errors="replace")
            raise SystemExit(f"ffmpeg {' '.join(args)} failed ({proc.returncode}):\n{tail}")
    bar.done()


def broadcast_mp3(minutes: float = 15.0) -> Path:
    """~``minutes`` of wesnoth tracks back to back, 44.1 kHz stereo MP3 at 128 kbit/s."""
    CACHE.mkdir(exist_ok=True)
    out = CACHE / f"wesnoth-{minutes:g}min-128k.mp3"
    if out.exists():
        return out
    chosen = broadcast_tracks(minutes)
    listing = CACHE / f"{out.stem}.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in chosen))
    tmp = out.with_suffix(".part.mp3")
    ffmpeg(
        [
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-t",
            str(minutes * 60),
            "-ar",
            "44100",
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            str(tmp),
        ],
        minutes * 60,
        f"encoding {out.name}",
    )
    tmp.rename(out)
    return out


def pcm11k(path: Path) -> Any:
    """Mono int16 PCM at 11025 Hz, decoded by ffmpeg."""
    import numpy as np

    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "11025", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16)


def real_segments(path: Path, variants: list[int], seconds: float | None = None) -> list[Any]:
    """The agent's own segments (shared.segmenter, 10 s) of a real recording, from yesterday on
    (the collector refuses times far from its clock)."""
    from datetime import UTC, datetime, timedelta

    from shared.segmenter import Segmenter

    pcm = pcm11k(path)
    if seconds is not None:
        pcm = pcm[: int(seconds * 11025)]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    seg = Segmenter(11025, 10.0, variants, start)
    out = []
    bar = Progress(f"segmenting {path.name} at {len(variants)} rate(s)", round(pcm.size / 11025), " s")
    for i in range(0, pcm.size, 5513):
        if i % (5513 * 40) == 0:
            bar.update(i / 11025)
        out += seg.feed(pcm[i : i + 5513])
    bar.done()
    return out + seg.finish()
