"""Blocks of mono 16-bit PCM as the edge agent passes them on: bytes, and their energy.

The agent never imports numpy: on a box it cost 14 MB of RSS (a sixth of the agent's
memory, bench/agent), for a mixdown and a level meter. Its PCM travels as little-endian
signed 16-bit ``bytes`` together with the sum of the squared samples, computed once per
block (:meth:`Pcm.of`) and used by the silence detector, the heartbeat's level and each
segment's level.

The sum is computed by ``libsodavpcm.so`` (packaging/pcm/pcm.c, built beside the agent's
Chromaprint into ``<venv>/lib/sodav/``) when it is there, else in Python: the same value,
~100 us slower per 0.25 s block (bench/agent/pcm_helper.py; FFmpeg's ``astats`` filter was
tried: no faster). The
same library mixes stereo down to mono (:func:`mix_stereo`) before the resampling graph;
without it the graph does, in more memory (~0.56 MB per station).

The collector's offline tools hold PCM as numpy arrays: :func:`as_pcm` takes either, and
imports numpy only when it is handed a numpy array.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["SILENT_DBFS", "Pcm", "as_pcm", "dbfs", "mix_stereo", "sum_squares"]

SILENT_DBFS = -120.0  # what digital silence reads as
FULL_SCALE = 32768.0
HELPER = Path(sys.prefix) / "lib" / "sodav" / "libsodavpcm.so"
log = logging.getLogger("shared.pcm")


def _python_sum_squares(data: bytes) -> float:
    samples = array("h")
    samples.frombytes(data)
    if sys.byteorder != "little":  # pragma: no cover - no big-endian boxes
        samples.byteswap()
    return float(round(math.hypot(*samples) ** 2))  # exact below 2^52: ~12 min at full scale


def _load_helper() -> ctypes.CDLL | None:
    """The C helpers, or None for Python (``SODAV_PCM_HELPER=python`` forces it)."""
    choice = os.environ.get("SODAV_PCM_HELPER", "")
    if choice == "python" or not HELPER.is_file() or sys.byteorder != "little":
        return None
    try:
        lib = ctypes.CDLL(str(HELPER))
        lib.sodav_sum_squares_s16.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
        lib.sodav_sum_squares_s16.restype = ctypes.c_double
        chars = ctypes.c_char_p
        lib.sodav_mix_stereo_f32.argtypes = (chars, chars, chars, ctypes.c_size_t)
        lib.sodav_mix_stereo_f32.restype = None
    except (OSError, AttributeError) as exc:
        log.warning("%s cannot be loaded (%s): PCM is handled in Python", HELPER, exc)
        return None
    return lib


_HELPER = _load_helper()


def _c_sum_squares(data: bytes) -> float:
    assert _HELPER is not None
    result: float = _HELPER.sodav_sum_squares_s16(data, len(data) // 2)
    return result


def _c_mix_stereo(left: bytes, right: bytes) -> bytes:
    assert _HELPER is not None
    if len(left) != len(right):
        raise ValueError("the two planes differ in length")
    out = ctypes.create_string_buffer(len(left))
    _HELPER.sodav_mix_stereo_f32(left, right, out, len(left) // 4)
    return out.raw


# Σx² of little-endian int16 ``data``
sum_squares: Callable[[bytes], float] = _python_sum_squares if _HELPER is None else _c_sum_squares
# two planes of native float32 samples mixed to one as FFmpeg does, (left + right) / sqrt(2);
# None without the helper: in Python it would cost ~2 ms a block, so the caller lets FFmpeg mix
mix_stereo: Callable[[bytes, bytes], bytes] | None = None if _HELPER is None else _c_mix_stereo


def dbfs(sum_squares: float, samples: int) -> float:
    """RMS level in dBFS of ``samples`` int16 samples whose squares sum to ``sum_squares``."""
    if samples <= 0:
        return SILENT_DBFS
    rms = math.sqrt(sum_squares / samples) / FULL_SCALE
    return max(SILENT_DBFS, 20 * math.log10(rms)) if rms > 0 else SILENT_DBFS


@dataclass(frozen=True, slots=True)
class Pcm:
    """Mono PCM: ``data`` is little-endian signed 16-bit samples, ``sum_squares`` their Σx²."""

    data: bytes
    sum_squares: float

    @property
    def samples(self) -> int:
        return len(self.data) // 2

    @property
    def level_dbfs(self) -> float:
        return dbfs(self.sum_squares, self.samples)

    @classmethod
    def of(cls, data: bytes) -> Pcm:
        """A block of little-endian int16 samples, its energy computed here."""
        data = data[: len(data) // 2 * 2]
        return cls(data, sum_squares(data))

    @classmethod
    def join(cls, parts: Iterable[Pcm]) -> Pcm:
        parts = list(parts)
        return cls(b"".join(p.data for p in parts), math.fsum(p.sum_squares for p in parts))


def as_pcm(pcm: Pcm | npt.NDArray[np.int16]) -> Pcm:
    """``pcm`` itself, or a numpy int16 array (the collector's tools) as a :class:`Pcm`."""
    if isinstance(pcm, Pcm):
        return pcm
    import numpy as np  # only the collector's side hands numpy arrays

    x = np.ascontiguousarray(pcm, dtype="<i2")
    f = x.astype(np.float64)
    return Pcm(x.tobytes(), float(np.dot(f, f)))
