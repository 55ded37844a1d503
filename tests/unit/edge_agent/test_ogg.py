"""The agent's own Ogg/Opus writer, checked against FFmpeg: its CRC, its lacing, its pages."""

from __future__ import annotations

import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from edge_agent.buffer.ogg import OggOpusWriter, ogg_crc, opus_tags
from tests.support.audio import excerpt, track


def _pages(data: bytes) -> list[tuple[int, int, bytes, int]]:
    """(flags, granule, segment table, stored CRC) of each page."""
    out, i = [], 0
    while i < len(data):
        assert data[i : i + 4] == b"OggS"
        flags, granule = data[i + 5], struct.unpack_from("<q", data, i + 6)[0]
        crc, n = struct.unpack_from("<I", data, i + 22)[0], data[i + 26]
        table = data[i + 27 : i + 27 + n]
        out.append((flags, granule, table, crc))
        i += 27 + n + sum(table)
    return out


def test_the_crc_is_the_one_ffmpeg_writes(tmp_path: Path) -> None:
    ref = tmp_path / "ref.ogg"
    src = excerpt(track(0), tmp_path / "a.wav", 0, 5, codec="wav")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "libopus", "-b:a", "24k", str(ref)], check=True
    )
    data, i, checked = ref.read_bytes(), 0, 0
    while i < len(data):
        n = data[i + 26]
        size = 27 + n + sum(data[i + 27 : i + 27 + n])
        page = bytearray(data[i : i + size])
        stored = struct.unpack_from("<I", page, 22)[0]
        page[22:26] = b"\0\0\0\0"
        assert ogg_crc(bytes(page)) == stored
        i, checked = i + size, checked + 1
    assert checked >= 5


def test_large_packets_are_laced_and_pages_split_as_ffmpeg_reads_them(tmp_path: Path) -> None:
    """Stereo, 510 kbit/s, 10 ms packets: ~640 bytes (3 lacing values) each, 300 segments a second."""
    three_seconds = ["-v", "error", "-ss", "20", "-t", "3", "-i", str(track(1))]
    as_pcm = ["-ac", "2", "-ar", "48000", "-f", "s16le", "-"]
    pcm = subprocess.run(["ffmpeg", *three_seconds, *as_pcm], capture_output=True, check=True).stdout
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate, codec.layout, codec.format = 48000, "stereo", "s16"
    codec.bit_rate, codec.time_base = 510_000, Fraction(1, 48000)
    codec.options = {"frame_duration": "10"}  # 100 packets a second
    codec.open()
    out = tmp_path / "big.ogg"
    sizes = []
    with out.open("wb") as f:
        ogg = OggOpusWriter(f, bytes(codec.extradata or b""), opus_tags("test", ["TITLE=big"]))
        frame = av.AudioFrame(format="s16", layout="stereo", samples=len(pcm) // 4)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.time_base, frame.pts = 48000, Fraction(1, 48000), 0
        for p in [*codec.encode(frame), *codec.encode(None)]:
            sizes.append(p.size)
            ogg.add(bytes(p), (p.pts or 0) + (p.duration or 0) + ogg.pre_skip)
        ogg.close(len(pcm) // 4 + ogg.pre_skip)
    assert np.median(sizes) > 2 * 255
    pages = _pages(out.read_bytes())
    assert pages[0][0] == 0x02 and pages[-1][0] == 0x04  # begins and ends the stream
    # a second's packets need more than one page's 255 segments: split, never over
    assert max(len(t) for _f, _g, t, _c in pages) == 255 and len(pages) - 2 >= 4
    granules = [g for _f, g, _t, _c in pages]
    assert granules == sorted(granules) and granules[-1] == len(pcm) // 4 + ogg.pre_skip
    # FFmpeg reads it without a CRC or framing complaint, to the exact sample
    res = subprocess.run(
        ["ffmpeg", "-v", "warning", "-i", str(out), "-f", "s16le", "-ar", "48000", "-ac", "2", "-"],
        capture_output=True,
        check=True,
    )
    assert res.stderr == b""
    assert len(res.stdout) == len(pcm)
    a = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    b = np.frombuffer(res.stdout, dtype=np.int16).astype(np.float64)
    assert np.corrcoef(a, b)[0, 1] > 0.99  # the same music, sample-aligned
    with av.open(str(out)) as f:
        assert f.streams.audio[0].metadata.get("TITLE") == "big"  # the OpusTags comment
