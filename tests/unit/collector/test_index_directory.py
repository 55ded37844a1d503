"""A large catalog's index looks keys up through a directory: it must answer as the search does.

Real recordings (hedgewars) fingerprinted whole; queries are 10 s windows of them through a
low-pass and MP3, and speech. The directory is switched on below its production threshold
(4 M postings, ~2,800 recordings) so a test-sized catalog uses it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from collector.matching import index as index_mod
from collector.matching.index import CatalogIndex
from shared.chroma import fingerprint_pcm
from tests.support.audio import excerpt, pcm11k, speech, track

RATE = 11025


@pytest.fixture(scope="module")
def recordings() -> list[np.ndarray]:
    return [fingerprint_pcm(pcm11k(track(i)), RATE) for i in range(4)]


def build(recordings: list[np.ndarray]) -> CatalogIndex:
    idx = CatalogIndex()
    for i, values in enumerate(recordings):
        idx.add(100 + i, values)
    idx.build()
    return idx


def test_directory_lookup_equals_binary_search(
    recordings: list[np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = build(recordings)
    monkeypatch.setattr(index_mod, "DIRECTORY_MIN_POSTINGS", 1)
    with_dir = build(recordings)
    assert with_dir.nbytes == plain.nbytes + ((1 << index_mod.KEY_BITS) + 1) * 4

    queries = []
    for i, begin in ((1, 30.0), (2, 75.0)):
        clip = excerpt(track(i), tmp_path / f"q{i}.mp3", begin, 10, af="lowpass=f=5000")
        queries.append((i, fingerprint_pcm(pcm11k(clip), RATE)))
    queries.append(
        (None, fingerprint_pcm(pcm11k(speech(tmp_path / "s.wav", "Bonjour, vous écoutez la radio.")), RATE))
    )

    for expected, q in queries:
        for probe in (False, True):
            a = plain.candidates(q, probe=probe)
            b = with_dir.candidates(q, probe=probe)
            assert a == b
            if expected is not None:  # and the right recording leads
                assert b and b[0].recording == expected
