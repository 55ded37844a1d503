"""Audio files as numpy arrays for the collector's tools (catalog import, analyze).

The decoding itself is :func:`shared.audio.file_pcm`, the one the agent's capture uses, so a
catalog file and a broadcast decode to the same samples; this module only turns its PCM
blocks into ``int16`` arrays, which the matcher and the catalog work on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from shared.audio import AudioError, file_pcm
from shared.chroma import CHROMAPRINT_RATE

__all__ = ["AudioError", "declared_seconds", "decode_file", "iter_pcm"]

_MP3_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")  # an MP3 frame that states the file's length


def iter_pcm(path: str | Path, rate: int = CHROMAPRINT_RATE) -> Iterator[npt.NDArray[np.int16]]:
    """Mono int16 chunks of a whole file; corrupt packets are skipped, not fatal."""
    for pcm in file_pcm(path, rate):
        yield np.frombuffer(pcm.data, dtype="<i2")


def decode_file(path: str | Path, rate: int = CHROMAPRINT_RATE) -> npt.NDArray[np.int16]:
    chunks = list(iter_pcm(path, rate))
    if not chunks:
        raise AudioError(f"{path}: no audio decoded")
    pcm = np.concatenate(chunks)
    if pcm.size < rate:
        raise AudioError(f"{path}: shorter than one second")
    return pcm


def declared_seconds(path: str | Path, guess: bool = False) -> float | None:
    """The duration the file's container states, when it states it (None otherwise).

    An MP3's is taken only when a Xing, Info or VBRI frame gives its length: without one,
    FFmpeg guesses from the first frame's bitrate, which a variable-bitrate file belies
    (``guess=True`` takes the guess too: good enough for a progress bar).
    """
    try:
        with av.open(str(path)) as container:
            seconds = container.duration / 1e6 if container.duration else None
            mp3 = container.format.name == "mp3"
    except (av.FFmpegError, OSError):
        return None  # decoding says why
    if seconds is not None and mp3 and not guess and not _mp3_states_length(Path(path)):
        return None
    return seconds


def _mp3_states_length(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:  # an ID3v2 tag first: its size is syncsafe
            skip = 10 + (head[6] << 21 | head[7] << 14 | head[8] << 7 | head[9])
        fh.seek(skip)
        first_frame = fh.read(4096)
    return any(tag in first_frame for tag in _MP3_LENGTH_TAGS)
