"""Name a segment: which recording, where in it, at what playback rate, how sure.

A segment arrives as one fingerprint per playback-rate variant. Each variant's values
query the :class:`CatalogIndex`; the best candidates are verified by bit error rate (BER)
over the whole aligned window. Random fingerprints disagree on half their bits (BER 0.5);
the same audio through a broadcast chain stays well under ``MAX_BER``. A match must also
cover enough values, so a short accidental agreement never names a song. A segment that
finds no candidate by its exact keys is searched again with keys one bit away
(multi-probe), which a band-limited broadcast needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collector.fpmath import aligned_ber
from collector.matching.index import ONE_BIT, CatalogIndex
from shared.chroma import item_duration

MAX_BER = 0.25  # measured: true matches ≤0.07 through a chain at ±2 %, off-catalog ≥0.32
MIN_OVERLAP = 40  # values (≈ 5 s) of aligned audio
MIN_VOTES = 2


@dataclass(frozen=True)
class Match:
    recording_id: int
    offset_values: int  # recording value index aligned with the variant's first value
    offset_s: float  # seconds into the recording at the variant's first value
    ber: float
    rate_ppm: int
    overlap: int

    @property
    def score(self) -> float:
        return 1.0 - self.ber


def match_values(
    index: CatalogIndex,
    values: npt.NDArray[np.uint32],
    rate_ppm: int = 0,
    probe: bool = False,
    max_ber: float = MAX_BER,
) -> Match | None:
    found = verified(index, values, rate_ppm, probe, max_ber)
    return min(found, key=lambda m: m.ber) if found else None


def verified(
    index: CatalogIndex,
    values: npt.NDArray[np.uint32],
    rate_ppm: int = 0,
    probe: bool = False,
    max_ber: float = MAX_BER,
    flips: npt.NDArray[np.uint32] = ONE_BIT,
) -> list[Match]:
    """Every candidate (recording, alignment) within ``max_ber``, its best of ±1 value.

    A looser bound than ``MAX_BER`` only names *seeds* (:mod:`collector.plays.sequential`,
    which never takes one window's word for a play), and so do probes other than one bit
    away (``flips``, :meth:`CatalogIndex.candidates`).
    """
    out: list[Match] = []
    for cand in index.candidates(values, probe=probe, min_votes=MIN_VOTES, flips=flips):
        ref = index.values[cand.recording]
        best: Match | None = None
        for off in (cand.offset - 1, cand.offset, cand.offset + 1):
            ber, n = aligned_ber(values, ref, off)
            if n < MIN_OVERLAP or ber > max_ber:
                continue
            if best is None or ber < best.ber:
                best = Match(index.ids[cand.recording], off, off * item_duration(0), ber, rate_ppm, n)
        if best is not None:
            out.append(best)
    return out


def match_variants(
    index: CatalogIndex, variants: list[tuple[int, npt.NDArray[np.uint32]]], probe: bool = True
) -> Match | None:
    """Best match over every (rate_ppm, values) variant of one segment.

    When no variant is named by its exact keys, the search is repeated with multi-probe
    keys (:meth:`CatalogIndex.candidates`): through an AM band or a low-bitrate codec a
    segment can sit at a BER of 0.15-0.25 from its recording (well within ``MAX_BER``) with
    almost none of its values keeping their exact key. The verification is the same, so a
    candidate found that way is held to the same bit error rate; only segments that found
    nothing pay for it (about 25 times the lookups). ``probe=False`` skips that second search.
    """
    for probing in (False, True) if probe else (False,):
        best: Match | None = None
        for rate_ppm, values in variants:
            m = match_values(index, values, rate_ppm, probe=probing)
            if m is not None and (best is None or m.ber < best.ber):
                best = m
        if best is not None:
            return best
    return None
