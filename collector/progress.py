"""Progress of a long command on stderr, with a time estimate.

On a terminal one line is rewritten in place; otherwise (a log, a pipe) a line is printed
every ~10 %, so a journal is not flooded. ``Progress`` is called as ``progress(n, total, label)``
with ``n`` the unit now being worked on (a row, a file) or the amount done (seconds of audio).
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, every_pct: int = 10) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_pct = every_pct
        self.t0 = time.monotonic()
        self.last_pct = -every_pct
        self.open_line = False

    def __call__(self, n: float, total: float, label: str) -> None:
        pct = int(100 * n // max(total, 1))
        eta = (time.monotonic() - self.t0) / max(n - 1, 1) * (total - n + 1) if n > 1 else 0
        count = f"{n:.0f}/{total:.0f}"
        line = f"[{pct:3d}%] {count} {label[:40]} (about {eta:.0f} s left)"
        if self.tty:
            print("\r" + line.ljust(79), end="", file=self.stream, flush=True)
            self.open_line = True
        elif pct >= self.last_pct + self.every_pct or n >= total:
            print(line, file=self.stream, flush=True)
            self.last_pct = pct

    def finish(self) -> None:
        """End the line rewritten in place, so what follows starts on its own line."""
        if self.open_line:
            print(file=self.stream, flush=True)
            self.open_line = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.finish()
