"""Decode audio files to what Chromaprint wants: mono int16 at 11025 Hz, through PyAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from shared.chroma import CHROMAPRINT_RATE


class AudioError(ValueError):
    """A file cannot be decoded; the message names it and says why."""


def iter_pcm(path: str | Path, rate: int = CHROMAPRINT_RATE) -> Iterator[npt.NDArray[np.int16]]:
    """Yield mono int16 chunks of a whole file; corrupt packets are skipped, not fatal."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise AudioError(f"{path}: cannot open ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    continue  # a damaged packet: skip it, keep the rest
                for frame in frames:
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
        except av.FFmpegError as exc:
            raise AudioError(f"{path}: decoding failed ({exc})") from exc


def decode_file(path: str | Path, rate: int = CHROMAPRINT_RATE) -> npt.NDArray[np.int16]:
    chunks = list(iter_pcm(path, rate))
    if not chunks:
        raise AudioError(f"{path}: no audio decoded")
    pcm = np.concatenate(chunks)
    if pcm.size < rate:
        raise AudioError(f"{path}: shorter than one second")
    return pcm
