from __future__ import annotations

import numpy as np
import pytest

from shared.chroma import ChromaprintError, StreamFingerprinter, fingerprint_pcm, item_duration


def _tone_mix(seconds: float, rate: int = 11025) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(3)
    sig = sum(
        np.sin(2 * np.pi * f * t) * (t % (0.5 + i / 7) < 0.3) for i, f in enumerate([220, 330, 523, 880])
    )
    sig = sig + 0.05 * rng.standard_normal(t.size)
    return (sig / np.max(np.abs(sig)) * 20000).astype(np.int16)


def test_streaming_equals_whole_buffer() -> None:
    pcm = _tone_mix(30)
    whole = fingerprint_pcm(pcm, 11025)
    fp = StreamFingerprinter(11025)
    parts = []
    for i in range(0, pcm.size, 3001):
        fp.feed(pcm[i : i + 3001])
        parts.append(fp.take())
    parts.append(fp.finish())
    streamed = np.concatenate(parts)
    assert np.array_equal(whole, streamed)
    assert fp.values_emitted == whole.size
    # about 8 values per second of audio
    assert 7.0 < whole.size / 30 < 8.2


def test_rate_variant_changes_timebase() -> None:
    assert item_duration(20000) == pytest.approx(item_duration(0) / 1.02)
    pcm = _tone_mix(20)
    # +4 %: the station played fast, so undoing it yields more values per broadcast second
    assert fingerprint_pcm(pcm, 11025, 40000).size > fingerprint_pcm(pcm, 11025, -40000).size


def test_too_low_sample_rate_is_a_typed_error() -> None:
    with pytest.raises(ChromaprintError, match="too low"):
        StreamFingerprinter(4000)
