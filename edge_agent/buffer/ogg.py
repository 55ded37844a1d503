"""A minimal Ogg/Opus file writer (RFC 3533, RFC 7845): one mono stream, pages of ~1 s.

The agent encodes its excerpts with libopus through PyAV. It writes the Ogg pages itself
because FFmpeg's Ogg muxer holds a 64 KiB page buffer per stream plus copies of finished
pages: ~150 KB of heap per station for ~3 KB of audio a second (bench/agent). Here a page
is the few packets of the last second, written out at once (so a crash loses at most that).
"""

from __future__ import annotations

import random
import struct
from typing import BinaryIO

OPUS_GRANULE_RATE = 48000  # Ogg/Opus granule positions count 48 kHz samples, whatever the input
PAGE_SECONDS = 1.0
_MAX_SEGMENTS = 255


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, no initial or final XOR."""
    crc = 0
    table = _CRC
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


def _lacing(size: int) -> bytes:
    return bytes([255] * (size // 255) + [size % 255])


def opus_tags(vendor: str, comments: list[str]) -> bytes:
    out = [b"OpusTags", struct.pack("<I", len(vendor.encode())), vendor.encode()]
    out.append(struct.pack("<I", len(comments)))
    for c in comments:
        out += [struct.pack("<I", len(c.encode())), c.encode()]
    return b"".join(out)


class OggOpusWriter:
    """Write Opus packets into an Ogg file.

    ``head`` is the OpusHead the encoder made (its pre-skip counts); each packet comes with
    the granule position (48 kHz samples since the stream began, pre-skip included) at its
    end. ``close(end_granule)`` writes the last page, marked end of stream, with the exact
    end so that players drop the encoder's padding.
    """

    def __init__(self, file: BinaryIO, head: bytes, tags: bytes) -> None:
        if not head.startswith(b"OpusHead") or len(head) < 19:
            raise ValueError("not an OpusHead header")
        self.file = file
        self.pre_skip = struct.unpack_from("<H", head, 10)[0]
        self._serial = random.getrandbits(32)
        self._seq = 0
        self._packets: list[bytes] = []
        self._segments = 0
        self._granule = 0
        self._page_start = 0
        self._write_page([head], granule=0, flags=0x02)
        self._write_page([tags], granule=0, flags=0x00)

    def add(self, packet: bytes, granule: int) -> None:
        lacing = len(packet) // 255 + 1
        if self._packets and self._segments + lacing > _MAX_SEGMENTS:
            self._flush(flags=0)
        self._packets.append(packet)
        self._segments += lacing
        self._granule = granule
        if self._granule - self._page_start >= PAGE_SECONDS * OPUS_GRANULE_RATE:
            self._flush(flags=0)

    def close(self, end_granule: int | None = None) -> None:
        """Write the last page (end of stream); ``end_granule`` trims the padding."""
        if end_granule is not None:
            self._granule = max(min(end_granule, self._granule), self._page_start)
        self._flush(flags=0x04, force=True)

    def _flush(self, flags: int, force: bool = False) -> None:
        if not self._packets and not force:
            return
        self._write_page(self._packets, self._granule, flags)
        self._packets, self._segments, self._page_start = [], 0, self._granule

    def _write_page(self, packets: list[bytes], granule: int, flags: int) -> None:
        table = b"".join(_lacing(len(p)) for p in packets)
        header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, self._serial, self._seq, 0, len(table))
        page = bytearray(header + table + b"".join(packets))
        struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
        self.file.write(page)
        self._seq += 1
