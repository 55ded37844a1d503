"""Compact, self-describing container for one segment of raw Chromaprint values.

A segment is what the agent fingerprinted between two instants of one station's audio,
at one playback-rate variant. The blob carries everything needed to use it alone:

    offset size  field
    0      4     magic b"SFP1"
    4      1     format version (1)
    5      1     flags (bit 0: payload is zlib-compressed)
    6      2     algorithm (Chromaprint algorithm id, 1 = TEST2, the default of fpcalc)
    8      4     rate_ppm, signed: the playback-rate variant in parts per million
                 (+20000: audio was treated as played 2 % fast and slowed back)
    12     8     start_us, signed: UTC start of the first sample, microseconds since the epoch
    20     4     sample_rate of the capture, Hz
    24     8     n_samples: exact duration in samples at sample_rate
    32     4     n_values: number of 32-bit values
    36     4     CRC-32 of the decoded values (little-endian uint32)
    40     ...   payload: values XOR-ed with their predecessor (first against 0),
                 little-endian uint32, optionally zlib-compressed

Consecutive Chromaprint values differ in few bits, so XOR-delta then zlib
roughly halves the size. Every malformed blob raises :class:`CodecError`.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from shared.chroma import item_duration

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# What a segment's values are held in: ``array('I')`` where they are made (the agent does not
# import numpy), a numpy uint32 array where they are decoded and matched (the collector).
V = TypeVar("V", "array[int]", "npt.NDArray[np.uint32]")

__all__ = [
    "MAGIC",
    "BlobHeader",
    "CodecError",
    "DecodedSegment",
    "FingerprintSegment",
    "decode",
    "encode",
    "rate_ppm_of",
    "read_header",
]

MAGIC = b"SFP1"
_VERSION = 1
_FLAG_ZLIB = 0x01
_HEADER = struct.Struct("<4sBBHiqIQII")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_VALUES = 1 << 20  # ~37 hours of Chromaprint at 7.8 values/s: anything above is corrupt


class CodecError(ValueError):
    """A fingerprint blob is malformed: truncated, wrong magic or version, bad checksum."""


@dataclass(frozen=True, slots=True)
class FingerprintSegment(Generic[V]):
    """Raw Chromaprint values of one stretch of audio, at one playback-rate variant."""

    values: V
    start: datetime
    sample_rate: int
    n_samples: int
    rate_ppm: int = 0
    algorithm: int = 1

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        if self.sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        if self.n_samples < 0:
            raise ValueError("n_samples must not be negative")

    @property
    def duration(self) -> float:
        """Duration in seconds, exact to the sample."""
        return self.n_samples / self.sample_rate

    @property
    def end(self) -> datetime:
        return self.start + timedelta(microseconds=round(self.n_samples * 1e6 / self.sample_rate))

    @property
    def rate(self) -> float:
        """Playback-rate factor of this variant (1.02 for +2 %)."""
        return 1.0 + self.rate_ppm / 1e6

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FingerprintSegment):
            return NotImplemented
        return (
            self.start == other.start
            and self.sample_rate == other.sample_rate
            and self.n_samples == other.n_samples
            and self.rate_ppm == other.rate_ppm
            and self.algorithm == other.algorithm
            and _u32(self.values) == _u32(other.values)
        )

    __hash__ = None  # type: ignore[assignment]


# What :func:`decode` gives: the collector's segments, values in a numpy array.
DecodedSegment = FingerprintSegment["npt.NDArray[np.uint32]"]


def _to_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _u32(values: Any) -> array[int]:
    """Any one-dimensional sequence of uint32 (array('I'), numpy, list) as array('I')."""
    if isinstance(values, array) and values.typecode == "I":
        return values
    if getattr(values, "ndim", 1) != 1:
        raise ValueError("values must be one-dimensional")
    try:
        view = memoryview(values)
    except TypeError:
        return array("I", (int(v) for v in values))
    out = array("I")
    if view.itemsize == 4 and view.format in ("I", "=I", "<I") and view.c_contiguous:
        out.frombytes(view.cast("B"))  # a numpy uint32 array: one copy, no loop
    else:
        out.extend(int(v) for v in values)
    return out


def _le_bytes(values: array[int]) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array("I", values)  # pragma: no cover - no big-endian boxes
    swapped.byteswap()  # pragma: no cover
    return swapped.tobytes()  # pragma: no cover


def encode(segment: FingerprintSegment[Any], *, compress: bool = True) -> bytes:
    """Serialise a segment. ``decode(encode(s)) == s`` for every valid segment."""
    values = _u32(segment.values)
    if len(values) > _MAX_VALUES:
        raise ValueError(f"too many values in one segment ({len(values)} > {_MAX_VALUES})")
    delta = array("I", values)
    for i in range(len(values) - 1, 0, -1):
        delta[i] ^= values[i - 1]
    payload = _le_bytes(delta)
    flags = 0
    if compress:
        payload = zlib.compress(payload, 6)
        flags |= _FLAG_ZLIB
    header = _HEADER.pack(
        MAGIC,
        _VERSION,
        flags,
        segment.algorithm,
        segment.rate_ppm,
        _to_us(segment.start),
        segment.sample_rate,
        segment.n_samples,
        len(values),
        zlib.crc32(_le_bytes(values)),
    )
    return header + payload


class BlobHeader(NamedTuple):
    """What a blob says about itself before its values are decompressed."""

    version: int
    flags: int
    algorithm: int
    rate_ppm: int
    start_us: int
    sample_rate: int
    n_samples: int
    n_values: int
    crc: int

    @property
    def start(self) -> datetime:
        try:
            return _EPOCH + timedelta(microseconds=self.start_us)
        except OverflowError as exc:
            raise CodecError(f"start time out of range ({self.start_us} µs)") from exc


def read_header(blob: bytes) -> BlobHeader:
    """A blob's header, read without touching its payload: cheap, so what it announces (how many
    values, when, at which rate) can be judged before anything is decompressed."""
    if len(blob) < _HEADER.size:
        raise CodecError(f"fingerprint blob truncated: {len(blob)} bytes, header needs {_HEADER.size}")
    magic, *fields = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise CodecError(f"not a fingerprint blob (magic {magic!r}, expected {MAGIC!r})")
    return BlobHeader(*fields)


def rate_ppm_of(blob: bytes) -> int:
    """The rate variant in a blob's header, without decoding its values.

    For blobs already checked by :func:`decode` (the collector stores what the upload's
    validation decoded once); a blob too short for a header raises :class:`CodecError`.
    """
    return read_header(blob).rate_ppm


def decode(blob: bytes) -> DecodedSegment:
    """Parse a blob made by :func:`encode`; raise :class:`CodecError` on any corruption.

    The values come back as a numpy array: decoding is the collector's (the agent only encodes).
    """
    import numpy as np

    head = read_header(blob)
    version, flags, algorithm, rate_ppm, _start_us, rate, n_samples, n_values, crc = head
    if version != _VERSION:
        raise CodecError(f"unsupported fingerprint format version {version} (this reads {_VERSION})")
    if flags & ~_FLAG_ZLIB:
        raise CodecError(f"unknown flags 0x{flags:02x}")
    if n_values > _MAX_VALUES:
        raise CodecError(f"implausible value count {n_values}")
    if rate == 0:
        raise CodecError("sample rate is zero")
    start = head.start
    payload = blob[_HEADER.size :]
    if flags & _FLAG_ZLIB:
        try:
            dec = zlib.decompressobj()
            payload = dec.decompress(payload, n_values * 4 + 1)
            if not dec.eof or dec.unused_data:
                raise CodecError("compressed payload truncated or followed by garbage")
        except zlib.error as exc:
            raise CodecError(f"compressed payload is corrupt: {exc}") from exc
    if len(payload) != n_values * 4:
        raise CodecError(f"payload holds {len(payload)} bytes, header announces {n_values * 4}")
    values = np.frombuffer(payload, dtype="<u4").copy()
    np.bitwise_xor.accumulate(values, out=values)
    if zlib.crc32(values.tobytes()) != crc:
        raise CodecError("checksum mismatch: fingerprint values are corrupt")
    return FingerprintSegment(
        values=values.astype(np.uint32, copy=False),
        start=start,
        sample_rate=rate,
        n_samples=n_samples,
        rate_ppm=rate_ppm,
        algorithm=algorithm,
    )


# Chromaprint gives one value per item_duration() (0.124 s at rate 0): a blob may hold this
# many times what its segment's duration allows, plus a few values at its edges
VALUES_MARGIN = 1.25
_EDGE_VALUES = 8
_BLOB_SLACK = timedelta(seconds=2)  # a blob's first value may sit a value step before its segment


def max_values(duration: float, rate_ppm: int = 0) -> int:
    """The most values a blob of a ``duration``-second segment may hold at ``rate_ppm``."""
    return math.ceil(duration / item_duration(rate_ppm) * VALUES_MARGIN) + _EDGE_VALUES


def check_blob(blob: bytes, start: datetime, duration: float) -> BlobHeader:
    """The header of a blob that may belong to a segment starting at ``start`` and lasting
    ``duration`` seconds: no more than :func:`max_values`, starting within the segment. Judged
    from the header alone, before anything is decompressed; a ``ValueError`` says what is wrong."""
    try:
        head = read_header(blob)
        first = head.start
    except CodecError as exc:
        raise ValueError(str(exc)) from None
    limit = max_values(duration, head.rate_ppm)
    if head.n_values > limit:
        raise ValueError(
            f"{head.n_values} values for a {duration:.1f} s segment "
            f"(at most {limit} at rate {head.rate_ppm} ppm)"
        )
    if not start - _BLOB_SLACK <= first <= start + timedelta(seconds=duration) + _BLOB_SLACK:
        raise ValueError(
            f"starts at {first.isoformat()}, outside its segment ({start.isoformat()}, {duration:.1f} s)"
        )
    return head
