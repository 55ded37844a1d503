"""Continuous Chromaprint on PCM, the one fingerprinting code shared by agent and catalog.

We drive libchromaprint through the ctypes handle that pyacoustid (``chromaprint``) loads,
and declare the streaming calls pyacoustid does not wrap (``get_raw_fingerprint``,
``clear_fingerprint``, ``get_item_duration``, ``get_delay``), so fingerprints come out
as raw 32-bit values while audio keeps flowing, with no restart between segments.

Playback-rate variants cost no extra resampling pass: to undo a station that plays
``rate`` times too fast, we tell Chromaprint the audio's sample rate is
``sample_rate / rate``. Its own resampler then stretches time and lowers pitch together,
which is what a turntable-style speed change did.

Errors from the library become :class:`ChromaprintError` (never a bare exception),
naming the call that failed.

Which libchromaprint: Debian's links FFmpeg for one FFT and costs a process ~15 MB of RSS
for the libraries behind it. ``./dev setup`` and the agent's package build Chromaprint with
FFTW (libfftw3-single3) into ``<venv>/lib/sodav/`` (packaging/chromaprint/build.sh): same raw
values bit for bit, no FFmpeg. When that file is there it is loaded first, and pyacoustid's
own load by soname then gets it. ``SODAV_CHROMAPRINT_LIB`` names another file, or ``system``
for the system library.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.pcm import Pcm

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ALGORITHM",
    "CHROMAPRINT_RATE",
    "ChromaprintError",
    "ChromaprintUnavailable",
    "StreamFingerprinter",
    "compressed",
    "fingerprint_pcm",
    "fingerprint_values",
    "item_duration",
    "library_path",
    "library_version",
    "ppm_to_rate",
    "rate_to_ppm",
]

ALGORITHM = 1  # CHROMAPRINT_ALGORITHM_TEST2, the default of fpcalc and AcoustID (id 1 in the C enum)
CHROMAPRINT_RATE = 11025  # Chromaprint resamples everything to this internally
_ITEM_SAMPLES = 4096 // 3  # TEST2: one value every 1365.33 samples at 11025 Hz (frame 4096, overlap 2/3)


class ChromaprintError(RuntimeError):
    """libchromaprint refused a call (bad sample rate, internal failure)."""


class ChromaprintUnavailable(ChromaprintError):
    """libchromaprint could not be loaded: install libchromaprint1 (Debian) or chromaprint."""


_lib: Any = None
BUNDLED_LIB = Path(sys.prefix) / "lib" / "sodav" / "libchromaprint.so.1"
log = logging.getLogger("shared.chroma")


def _preload() -> None:
    """Load the FFmpeg-free build, if any, before pyacoustid loads libchromaprint.so.1."""
    if "chromaprint" in sys.modules:
        return  # pyacoustid already has its library
    choice = os.environ.get("SODAV_CHROMAPRINT_LIB", "")
    if choice == "system":
        return
    path = Path(choice) if choice else BUNDLED_LIB
    if not path.is_file():
        if choice:
            raise ChromaprintUnavailable(f"SODAV_CHROMAPRINT_LIB={choice}: no such file")
        return
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        if choice:
            raise ChromaprintUnavailable(f"SODAV_CHROMAPRINT_LIB={choice}: {exc}") from exc
        log.warning("%s cannot be loaded (%s): using the system libchromaprint", path, exc)


def _library() -> Any:
    global _lib
    if _lib is not None:
        return _lib
    _preload()
    try:
        import chromaprint  # pyacoustid's ctypes binding, loads libchromaprint.so.1
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ChromaprintUnavailable(
            "libchromaprint is not installed: on Debian run `apt-get install libchromaprint1`, "
            "elsewhere install Chromaprint 1.4 or newer"
        ) from exc
    lib = chromaprint._libchromaprint
    vp, ip = ctypes.c_void_p, ctypes.c_int
    lib.chromaprint_get_raw_fingerprint.argtypes = (
        vp,
        ctypes.POINTER(ctypes.POINTER(ctypes.c_uint32)),
        ctypes.POINTER(ip),
    )
    lib.chromaprint_get_raw_fingerprint.restype = ip
    lib.chromaprint_clear_fingerprint.argtypes = (vp,)
    lib.chromaprint_clear_fingerprint.restype = ip
    lib.chromaprint_get_item_duration.argtypes = (vp,)
    lib.chromaprint_get_item_duration.restype = ip
    lib.chromaprint_get_delay.argtypes = (vp,)
    lib.chromaprint_get_delay.restype = ip
    lib.chromaprint_feed.argtypes = (vp, ctypes.c_void_p, ip)
    lib.chromaprint_feed.restype = ip
    _lib = lib
    return lib


def library_path() -> str:
    """The file libchromaprint was loaded from (Linux: read from the process's mappings)."""
    _library()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if "libchromaprint" in line:
                    return line.split(maxsplit=5)[-1].strip()
    except OSError:
        pass
    return "libchromaprint.so.1"


def library_version() -> str:
    version: bytes = _library().chromaprint_get_version()
    return version.decode()


def rate_to_ppm(rate: float) -> int:
    return round((rate - 1.0) * 1e6)


def ppm_to_rate(ppm: int) -> float:
    return 1.0 + ppm / 1e6


def item_duration(rate_ppm: int = 0) -> float:
    """Seconds of broadcast audio between two consecutive values of a variant."""
    return _ITEM_SAMPLES / CHROMAPRINT_RATE / ppm_to_rate(rate_ppm)


def _check(result: int, call: str) -> None:
    if result != 1:
        raise ChromaprintError(f"libchromaprint: {call} failed")


class StreamFingerprinter:
    """Feed mono int16 PCM as it arrives; take the new raw values whenever you like.

    ``values_emitted`` counts every value ever taken, so value ``i`` of the stream
    starts at ``i * item_duration(rate_ppm)`` seconds after the first sample fed.
    """

    def __init__(self, sample_rate: int, rate_ppm: int = 0) -> None:
        self._lib = _library()
        self.sample_rate = sample_rate
        self.rate_ppm = rate_ppm
        effective = round(sample_rate / ppm_to_rate(rate_ppm))
        if effective < 8000:
            raise ChromaprintError(
                f"sample rate {sample_rate} Hz with rate variant {rate_ppm} ppm is too low: "
                "capture at 11025 Hz or more"
            )
        self._ctx = self._lib.chromaprint_new(ALGORITHM)
        if not self._ctx:
            raise ChromaprintError("libchromaprint: chromaprint_new returned NULL")
        _check(self._lib.chromaprint_start(self._ctx, effective, 1), "chromaprint_start")
        self.values_emitted = 0
        self.samples_fed = 0

    def __del__(self) -> None:
        ctx = getattr(self, "_ctx", None)
        if ctx:
            self._lib.chromaprint_free(ctx)
            self._ctx = None

    def feed(self, pcm: Pcm | bytes | npt.NDArray[np.int16]) -> None:
        """Feed mono int16 samples: a :class:`Pcm`, little-endian bytes, or a numpy array."""
        if isinstance(pcm, Pcm):
            data = pcm.data
        elif isinstance(pcm, bytes):
            data = pcm
        else:
            import numpy as np  # the collector's tools hand numpy arrays; the agent never does

            data = np.ascontiguousarray(pcm, dtype="<i2").tobytes()
        n = len(data) // 2
        if n:
            _check(self._lib.chromaprint_feed(self._ctx, data, n), "chromaprint_feed")
            self.samples_fed += n

    def take(self) -> array[int]:
        """Return the values computed since the last call, and forget them."""
        ptr = ctypes.POINTER(ctypes.c_uint32)()
        size = ctypes.c_int()
        _check(
            self._lib.chromaprint_get_raw_fingerprint(self._ctx, ctypes.byref(ptr), ctypes.byref(size)),
            "chromaprint_get_raw_fingerprint",
        )
        values = array("I")
        try:
            if size.value:
                values.frombytes(ctypes.string_at(ptr, 4 * size.value))
        finally:
            self._lib.chromaprint_dealloc(ptr)
        _check(self._lib.chromaprint_clear_fingerprint(self._ctx), "chromaprint_clear_fingerprint")
        self.values_emitted += len(values)
        return values

    def finish(self) -> array[int]:
        """Flush the tail of the audio and return the last values."""
        _check(self._lib.chromaprint_finish(self._ctx), "chromaprint_finish")
        return self.take()


def compressed(values: array[int] | npt.NDArray[np.uint32]) -> str:
    """The compressed, base64 form fpcalc prints and AcoustID takes."""
    _library()
    import chromaprint

    encoded: bytes = chromaprint.encode_fingerprint([int(v) for v in values], ALGORITHM)
    return encoded.decode()


def fingerprint_values(
    pcm: Pcm | bytes | npt.NDArray[np.int16], sample_rate: int, rate_ppm: int = 0
) -> array[int]:
    """Raw values of a whole mono int16 buffer, as ``array('I')`` (the agent: no numpy)."""
    fp = StreamFingerprinter(sample_rate, rate_ppm)
    fp.feed(pcm)
    return fp.finish()


def fingerprint_pcm(
    pcm: Pcm | bytes | npt.NDArray[np.int16], sample_rate: int, rate_ppm: int = 0
) -> npt.NDArray[np.uint32]:
    """Raw values of a whole mono int16 buffer as a numpy array (catalog files, tests, analysis)."""
    import numpy as np

    return np.array(fingerprint_values(pcm, sample_rate, rate_ppm), dtype=np.uint32)
