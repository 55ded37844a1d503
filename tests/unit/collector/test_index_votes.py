"""Leaving out the candidates under ``min_votes`` (and the hashed histograms that drop most
single votes unsorted) must not change the candidates that remain.

Catalog: random recordings (what the index sees of a catalog is 32-bit values); queries: a
window of one of them with bits flipped, so the exact and the multi-probe search both find it
among noise, and a window of values no recording holds.
"""

from __future__ import annotations

import numpy as np
import pytest

from collector.matching import index as index_mod
from collector.matching.index import CatalogIndex, _count


def test_count_keeps_every_vote_cast_often_enough() -> None:
    rng = np.random.default_rng(5)
    single = rng.integers(0, 1 << 50, size=30_000, dtype=np.int64)
    repeated = np.repeat(single[:300], rng.integers(2, 6, size=300))
    votes = rng.permutation(np.concatenate([single, repeated]))
    assert votes.size >= index_mod._FILTER_MIN_VOTES  # the hashed path
    for min_votes in (1, 2, 3, 5):
        uniq, counts = np.unique(votes, return_counts=True)
        enough = counts >= min_votes
        got_uniq, got_counts = _count(votes, min_votes)
        assert np.array_equal(got_uniq, uniq[enough])
        assert np.array_equal(got_counts, counts[enough])


@pytest.mark.parametrize("directory", [False, True])
def test_min_votes_leaves_the_other_candidates_as_they_were(
    directory: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if directory:
        monkeypatch.setattr(index_mod, "DIRECTORY_MIN_POSTINGS", 1)
    monkeypatch.setattr(index_mod, "_FILTER_MIN_VOTES", 64)  # hash even a small query's votes
    rng = np.random.default_rng(11)
    idx = CatalogIndex()
    recordings = [rng.integers(0, 1 << 32, size=1500, dtype=np.uint32) for _ in range(300)]
    for i, values in enumerate(recordings):
        idx.add(1000 + i, values)
    # two bits flipped in every value, one of them in the key's bits half of the time
    noise = (np.uint32(1) << rng.integers(0, 32, size=80).astype(np.uint32)) | (
        np.uint32(1) << rng.integers(0, 8, size=80).astype(np.uint32)
    )
    found = recordings[42][600:680] ^ noise
    unknown = rng.integers(0, 1 << 32, size=80, dtype=np.uint32)
    for query in (found, unknown):
        for probe in (False, True):
            every = idx.candidates(query, probe=probe)
            assert idx.candidates(query, probe=probe, min_votes=2) == [c for c in every if c.votes >= 2]
    best = idx.candidates(found, probe=True, min_votes=2)[0]
    assert (best.recording, best.offset) == (42, 600)
