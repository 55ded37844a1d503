"""Our own ICY (Shoutcast/Icecast) reader: audio bytes for the decoder, titles for us.

PyAV reads ICY metadata only once, at open. We open the HTTP connection ourselves with
``Icy-MetaData: 1``, strip the metadata blocks that the server inserts every ``icy-metaint``
bytes, hand the pure audio to the decoder as a file-like object, and report every
``StreamTitle`` change. One connection per station.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_TITLE = re.compile(rb"StreamTitle='(.*?)';", re.DOTALL)


def parse_metadata(block: bytes) -> str | None:
    """The StreamTitle of one metadata block, or None if it has none."""
    m = _TITLE.search(block.rstrip(b"\x00"))
    if m is None:
        return None
    raw = m.group(1)
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


class IcyStream:
    """File-like ``read(n)`` over a byte iterator, removing ICY metadata blocks.

    ``read(n)`` returns the audio that has arrived (one byte at least, ``n`` at most; ``b""``
    at the end) rather than waiting for ``n`` bytes: the decoder sees each piece of audio as
    it arrives, which is what dates it (:mod:`edge_agent.capture.airtime`). PyAV asks for
    32 KiB at a time, 2 s of a 128 kbit/s stream and 8 s of a 32 kbit/s one.
    """

    def __init__(self, chunks: Iterator[bytes], metaint: int | None, on_title: Callable[[str], None]) -> None:
        self._chunks = chunks
        self._metaint = metaint or 0
        self._on_title = on_title
        self._buf = bytearray()
        self._until_meta = self._metaint
        self._eof = False
        self.last_title: str | None = None
        self.bytes_read = 0

    def _fill(self, n: int) -> bool:
        while len(self._buf) < n and not self._eof:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                self._eof = True
        return len(self._buf) >= n

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 16
        if not self._metaint:
            self._fill(1)
            data = self._take(min(n, len(self._buf)))
            self.bytes_read += len(data)
            return data
        if self._until_meta == 0:
            if not self._fill(1):
                return b""
            length = self._buf[0] * 16
            if not self._fill(1 + length):
                return b""
            block = self._take(1 + length)[1:]
            if length:
                title = parse_metadata(block)
                if title is not None and title != self.last_title:
                    self.last_title = title
                    self._on_title(title)
            self._until_meta = self._metaint
        want = min(n, self._until_meta)
        self._fill(1)
        data = self._take(min(want, len(self._buf)))
        self._until_meta -= len(data)
        self.bytes_read += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False
