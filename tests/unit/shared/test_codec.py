from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shared.codec import CodecError, FingerprintSegment, decode, encode, rate_ppm_of


def _segment(n: int = 80, rate_ppm: int = 0) -> FingerprintSegment:
    rng = np.random.default_rng(n)
    return FingerprintSegment(
        values=rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32),
        start=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        sample_rate=11025,
        n_samples=110_253,
        rate_ppm=rate_ppm,
    )


@pytest.mark.parametrize("rate_ppm", [-40000, 0, 20000])
@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_keeps_every_field(rate_ppm: int, compress: bool) -> None:
    seg = _segment(rate_ppm=rate_ppm)
    back = decode(encode(seg, compress=compress))
    assert back == seg
    assert back.start == datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert back.n_samples == 110_253
    assert back.duration == pytest.approx(110_253 / 11025)
    assert back.rate == pytest.approx(1 + rate_ppm / 1e6)


def test_empty_and_extreme_values_round_trip() -> None:
    for values in ([], [0], [0xFFFFFFFF, 0, 0xFFFFFFFF]):
        seg = FingerprintSegment(
            values=np.array(values, dtype=np.uint32),
            start=datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
            sample_rate=44100,
            n_samples=0,
        )
        assert decode(encode(seg)) == seg


def test_real_chromaprint_values_compress() -> None:
    # consecutive Chromaprint values share most bits: XOR-delta + zlib must shrink them
    base = np.uint32(0x5A5A1234)
    rng = np.random.default_rng(1)
    vals = [base]
    for _ in range(999):
        flip = np.uint32(1) << np.uint32(rng.integers(0, 32))
        vals.append(np.uint32(vals[-1] ^ flip))
    seg = FingerprintSegment(np.array(vals, dtype=np.uint32), datetime.now(UTC), 11025, 1)
    assert len(encode(seg)) < 0.5 * 4 * len(vals)


def test_end_is_start_plus_exact_duration() -> None:
    seg = _segment()
    assert seg.end - seg.start == timedelta(microseconds=round(110_253 / 11025 * 1e6))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:10], "truncated"),
        (lambda b: b"XXXX" + b[4:], "magic"),
        (lambda b: b[:4] + b"\x09" + b[5:], "version"),
        (lambda b: b[:5] + b"\x80" + b[6:], "flags"),
        (lambda b: b[:-5], "truncated"),
        (lambda b: b + b"garbage", "garbage"),
        (lambda b: b[:60] + bytes([b[60] ^ 0xFF]) + b[61:], "corrupt|checksum|announces"),
    ],
)
def test_corrupt_blobs_raise_codec_error(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    blob = encode(_segment())
    with pytest.raises(CodecError, match=message):
        decode(mutate(blob))


def test_wrong_checksum_is_detected_even_with_valid_zlib() -> None:
    seg = _segment()
    blob = bytearray(encode(seg, compress=False))
    blob[-1] ^= 0x01
    with pytest.raises(CodecError, match="checksum"):
        decode(bytes(blob))
    # and a payload that is valid zlib of the wrong length
    header = encode(seg)[:40]
    with pytest.raises(CodecError, match="announces"):
        decode(header + zlib.compress(b"\x00" * 8))


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        FingerprintSegment(np.zeros(1, np.uint32), datetime(2026, 1, 1), 11025, 1)


def test_rate_is_read_from_the_header_alone() -> None:
    blob = encode(_segment(rate_ppm=-25000))
    assert rate_ppm_of(blob) == -25000 == decode(blob).rate_ppm
    with pytest.raises(CodecError):
        rate_ppm_of(b"SFP")
    with pytest.raises(CodecError):
        rate_ppm_of(b"XXXX" + blob[4:])
