"""Inverted index over the catalog's raw Chromaprint values.

Every value of every recording is a posting ``(key, recording, position)``, where the key
is the value's top ``KEY_BITS`` bits (the bits least disturbed by noise and codecs). The
postings live in two parallel numpy arrays sorted by key: the keys, and the recording and
position packed in one int64 (``recording << 32 | position + 2**31``), so a lookup is a
``searchsorted`` and memory is 12 bytes per value (≈ 100 bytes per second of catalog).

A query votes for ``(recording, offset)`` pairs, ``offset = position - query_index``: with
the packing, a posting's vote is its packed int64 minus the query index. The best few
candidates are verified by the bit error rate over the whole aligned window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

KEY_BITS = 24
_SHIFT = 32 - KEY_BITS
# From this many postings on (~2,800 three-minute recordings), a directory of where each of
# the 2**KEY_BITS keys starts (64 MiB) replaces the binary search: a lookup is two reads
# instead of ~27 scattered ones, which the multi-probe retry (25 lookups per value) feels most.
DIRECTORY_MIN_POSTINGS = 1 << 22
_BIAS = 1 << 31  # added to positions so that position - query index stays in the low 32 bits
# Counting votes by sorting them costs most when most are noise, as in a large catalog's
# multi-probe search (17,500 votes a query at 100k recordings, 98 % of them alone on their
# (recording, offset)): from this many votes, two histograms of hashes of the votes first drop
# the votes alone in their bucket, which cannot reach two (2**16 buckets leave about a
# quarter of them, 2**14 more then about a fifth of those).
_FILTER_MIN_VOTES = 4096
_HASHES = ((16, np.uint64(0x9E3779B97F4A7C15)), (14, np.uint64(0xC2B2AE3D27D4EB4F)))
# multi-probe: the keys one bit away from the value's own
ONE_BIT = np.left_shift(np.uint32(1), np.arange(KEY_BITS, dtype=np.uint32))
# The key's top two bits are Chromaprint's first classifier, the only one of the key's twelve
# that is a plain sum over the chroma image rather than a difference: hiss flattens the chroma
# and moves it two levels at once (a faint song through an AM band, docs/benchmarks.md), so
# every value's key starts two bits wrong. These probes give those two bits each of their four
# codes, each with the rest of the key exact or one bit away (91 lookups a value besides the
# value's own key, against 24): the seed search of the play assembly only.
_LOW = KEY_BITS - 2
TOP_ANY = np.array(
    [t << _LOW | m for t in range(4) for m in [0, *(1 << b for b in range(_LOW))] if t << _LOW | m],
    dtype=np.uint32,
)


@dataclass(frozen=True)
class Candidate:
    recording: int  # index into the catalog arrays (not the DB id)
    offset: int  # value position in the recording aligned with query value 0
    votes: int


class CatalogIndex:
    def __init__(self) -> None:
        self.ids: list[int] = []  # DB ids by catalog index
        self.values: list[npt.NDArray[np.uint32]] = []
        self._keys = np.zeros(0, dtype=np.uint32)
        self._postings = np.zeros(0, dtype=np.int64)  # recording << 32 | position + _BIAS
        self._dir: npt.NDArray[np.uint32] | None = None
        self._dirty: list[int] = []

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        directory = self._dir.nbytes if self._dir is not None else 0
        return int(self._keys.nbytes + self._postings.nbytes + directory + sum(v.nbytes for v in self.values))

    def add(self, recording_id: int, values: npt.NDArray[np.uint32]) -> None:
        self.ids.append(recording_id)
        self.values.append(np.ascontiguousarray(values, dtype=np.uint32))
        self._dirty.append(len(self.ids) - 1)

    def build(self) -> None:
        """Merge recordings added since the last build into the sorted postings."""
        if not self._dirty:
            return
        keys = [self._keys] + [(self.values[i] >> _SHIFT).astype(np.uint32) for i in self._dirty]
        postings = [self._postings] + [
            (i << 32) + _BIAS + np.arange(self.values[i].size, dtype=np.int64) for i in self._dirty
        ]
        k, p = np.concatenate(keys), np.concatenate(postings)
        order = np.argsort(k, kind="stable")
        self._keys, self._postings = k[order], p[order]
        self._dir = None
        if self._keys.size >= DIRECTORY_MIN_POSTINGS:
            all_keys = np.arange((1 << KEY_BITS) + 1, dtype=np.uint32)  # same dtype: no copy of the keys
            self._dir = np.searchsorted(self._keys, all_keys, side="left").astype(np.uint32)
        self._dirty = []

    def candidates(
        self,
        query: npt.NDArray[np.uint32],
        top: int = 5,
        max_postings: int = 2000,
        probe: bool = False,
        min_votes: int = 1,
        flips: npt.NDArray[np.uint32] = ONE_BIT,
    ) -> list[Candidate]:
        """The (recording, offset) pairs most voted for by the query's keys.

        With ``probe``, each value also looks up the keys ``flips`` away from its own
        (multi-probe; by default the ``KEY_BITS`` keys one bit away): a band-limited or heavily
        coded broadcast flips a bit or two of most values, so few keep their exact top bits,
        yet most stay within one bit of them. Candidates with fewer than ``min_votes`` votes
        are left out (they would rank last).
        """
        self.build()  # before the size check: an index never built has no keys yet
        if query.size == 0 or self._keys.size == 0:
            return []
        qkeys = (query >> _SHIFT).astype(np.uint32)
        qpos = np.arange(query.size)
        if probe:
            qkeys = np.concatenate([qkeys, (qkeys[None, :] ^ flips[:, None]).ravel()])
            qpos = np.tile(qpos, flips.size + 1)
            if self._dir is None:
                # sorted needles: numpy's binary search starts from the previous hit, which keeps
                # the 25-fold lookups from missing the cache
                order = np.argsort(qkeys, kind="stable")
                qkeys, qpos = qkeys[order], qpos[order]
        if self._dir is not None:
            lo = self._dir[qkeys].astype(np.int64)
            hi = self._dir[qkeys + np.uint32(1)].astype(np.int64)
        else:
            lo = np.searchsorted(self._keys, qkeys, side="left")
            hi = np.searchsorted(self._keys, qkeys, side="right")
        counts = hi - lo
        keep = (counts > 0) & (counts <= max_postings)  # very common keys carry no information
        if not keep.any():
            return []
        lo, counts = lo[keep], counts[keep]
        ends = np.cumsum(counts)
        # the postings of every kept key, one run after another, and each one's vote
        idx = np.repeat(lo - (ends - counts), counts)
        idx += np.arange(idx.size)
        cast = self._postings[idx]
        cast -= np.repeat(qpos[keep], counts)
        uniq, votes = _count(cast, min_votes)
        best = np.argsort(-votes, kind="stable")[: top * 3]
        out: list[Candidate] = []
        seen: set[tuple[int, int]] = set()
        for b in best:
            r = int(uniq[b] >> 32)
            o = int((uniq[b] & 0xFFFFFFFF) - _BIAS)
            # neighbouring offsets are one candidate (Chromaprint frames may slip by one)
            if any((r, o + d) in seen for d in (-1, 1)):
                continue
            seen.add((r, o))
            out.append(Candidate(r, o, int(votes[b])))
            if len(out) >= top:
                break
        return out


def _count(
    votes: npt.NDArray[np.int64], min_votes: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """The distinct votes in increasing order and how many times each was cast, those cast
    fewer than ``min_votes`` times left out."""
    if min_votes > 1 and votes.size >= _FILTER_MIN_VOTES:
        # a vote cast n times lands n times in its bucket: a bucket with fewer holds none that
        # counts; what is left is sorted as before (multiply-shift hashing: the top bits)
        for bits, factor in _HASHES:
            bucket = ((votes.view(np.uint64) * factor) >> np.uint64(64 - bits)).view(np.int64)
            # np.compress: about twice as fast as a boolean index on these sizes
            votes = np.compress((np.bincount(bucket, minlength=1 << bits) >= min_votes)[bucket], votes)
    uniq, counts = np.unique(votes, return_counts=True)
    if min_votes > 1:
        enough = counts >= min_votes
        uniq, counts = np.compress(enough, uniq), np.compress(enough, counts)
    return uniq, counts
