"""Fingerprint maths: how far apart two runs of Chromaprint values are.

Pure numpy, no state: the matcher verifies its candidates with it, the play assembly
extends and checks plays with it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def bit_errors(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    """Number of differing bits per value pair."""
    out: npt.NDArray[np.uint8] = np.bitwise_count(np.bitwise_xor(a, b))
    return out


def aligned_ber(query: npt.NDArray[np.uint32], ref: npt.NDArray[np.uint32], offset: int) -> tuple[float, int]:
    """Bit error rate of the query against ``ref`` at ``offset``; and how many values overlapped."""
    q0 = max(0, -offset)
    r0 = offset + q0
    n = min(query.size - q0, ref.size - r0)
    if n <= 0:
        return 1.0, 0
    errs = bit_errors(query[q0 : q0 + n], ref[r0 : r0 + n])
    return float(errs.sum()) / (32.0 * n), n


def ber_profile(
    query: npt.NDArray[np.uint32], ref: npt.NDArray[np.uint32], min_overlap: int
) -> npt.NDArray[np.float64]:
    """Bit error rate of ``query`` against ``ref`` at every offset with at least ``min_overlap``
    values in common: entry ``k`` is offset ``k - (query.size - min_overlap)``; 1.0 where the
    values in common are fewer."""
    lead = query.size - min_overlap
    if lead < 0 or ref.size < min_overlap:
        return np.ones(0)
    padded = np.concatenate([np.zeros(lead, np.uint32), ref, np.zeros(lead, np.uint32)])
    valid = np.concatenate([np.zeros(lead, bool), np.ones(ref.size, bool), np.zeros(lead, bool)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, query.size)
    inside = np.lib.stride_tricks.sliding_window_view(valid, query.size)
    bits = np.bitwise_count(np.bitwise_xor(windows, query[None, :])).sum(axis=1, where=inside, dtype=np.int64)
    n = inside.sum(axis=1)
    out = np.ones(windows.shape[0])
    ok = n >= min_overlap
    out[ok] = bits[ok] / (32.0 * n[ok])
    return out
