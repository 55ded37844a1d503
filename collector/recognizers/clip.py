"""The audio a paid service receives: at most 12 s of a file, as a small Ogg/Opus clip.

AudD's standard endpoint reads up to 12 seconds (docs.audd.io: "Standard Recognition ...
Up to 12 seconds") and bills one request per call; sending more costs bandwidth and buys
nothing. Every clip that leaves the collector is cut here, so none can be longer. The
audio is decoded by :func:`shared.audio.file_pcm` (the agent's decoder) and encoded again
with libopus at 16 kHz mono, 32 kbit/s: about 50 kB for 12 s.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av

from shared.audio import AudioError, file_pcm

__all__ = ["AUDD_MAX_SECONDS", "AudioError", "clip"]

AUDD_MAX_SECONDS = 12.0
_RATE = 16000  # a rate libopus takes, and the whole band a fingerprint needs
_BITRATE = 32000


def clip(path: Path | str, start_s: float = 0.0, seconds: float = AUDD_MAX_SECONDS) -> bytes:
    """``seconds`` (at most 12) of ``path`` from ``start_s``, as Ogg/Opus bytes.

    Raises :class:`AudioError` if the file cannot be decoded or holds no audio there.
    """
    seconds = min(seconds, AUDD_MAX_SECONDS)
    if seconds <= 0 or start_s < 0:
        raise AudioError(f"{path}: nothing to cut ({seconds:g} s from {start_s:g} s)")
    first, last = round(start_s * _RATE), round((start_s + seconds) * _RATE)
    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=_RATE)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        stream.bit_rate = _BITRATE
        at = written = 0
        for block in file_pcm(path, _RATE):
            lo, hi = max(first - at, 0), min(last - at, block.samples)
            at += block.samples
            if hi <= lo:
                if at >= last:
                    break
                continue
            frame = av.AudioFrame(format="s16", layout="mono", samples=hi - lo)
            frame.planes[0].update(block.data[2 * lo : 2 * hi])
            frame.sample_rate = _RATE
            frame.time_base = Fraction(1, _RATE)
            frame.pts = written
            written += hi - lo
            for packet in stream.encode(frame):
                container.mux(packet)
        if written == 0:
            raise AudioError(f"{path}: no audio between {start_s:g} s and {start_s + seconds:g} s")
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
