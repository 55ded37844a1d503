"""Audio files as numpy arrays for the collector's tools (catalog import, analyze).

The decoding itself is :func:`shared.audio.file_pcm`, the one the agent's capture uses, so a
catalog file and a broadcast decode to the same samples; this module only turns its PCM
blocks into ``int16`` arrays, which the matcher and the catalog work on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from shared.audio import AudioError, file_pcm
from shared.chroma import CHROMAPRINT_RATE

__all__ = ["AudioError", "decode_file", "iter_pcm"]


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
