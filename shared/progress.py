"""A progress bar with a time estimate, on stderr, for every command that runs long.

Used by the collector's commands (analyze, catalog import, report generation), the demo and
the benchmarks: one bar, one look.

On a terminal one line is redrawn in place; otherwise (CI, a log file) a line is printed every
~10 % so a log shows progress without flooding. Work that ends within a second prints nothing.
The estimate is the time so far divided by the work done, times the work left. Standard
output stays free for results, so a script's table or JSON can still be read by a program.

    bar = Progress("fingerprinting the catalog", len(files))
    for path in files:
        bar.step(path.name)
        ...
    bar.done()

``Progress()(done, total, label)`` is the call signature of the collector's progress
callbacks, so a bar can be passed wherever those take one; as a context manager it ends its
line (and says how long the work took) when the block ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TextIO, TypeVar

T = TypeVar("T")

__all__ = ["Progress", "eta", "track"]

WIDTH = 24
QUIET_S = 1.0  # nothing is shown for work that ends sooner


def eta(elapsed: float, done: float, total: float) -> str:
    """'about 1 min 20 s left', or '' before any work is done."""
    if done <= 0 or total <= 0 or done >= total:
        return ""
    left = max(0.0, elapsed / done * (total - done))
    if left >= 60:
        return f"about {int(left // 60)} min {int(left % 60):02d} s left"
    return f"about {left:.0f} s left"


class Progress:
    """``total`` units of work named ``what``; ``update`` or ``step`` as they get done."""

    def __init__(
        self, what: str = "", total: float = 0, unit: str = "", stream: TextIO | None = None
    ) -> None:
        self.what = what
        self.total = total
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()
        self.count = 0.0
        self.last_pct = -10
        self.shown = False  # a bar is on the terminal's line
        self.printed = False  # anything was printed

    def __call__(self, done: float, total: float, label: str = "") -> None:
        self.total = total
        self.update(done, label)

    def step(self, label: str = "", n: float = 1) -> None:
        """Starting the next ``n`` units (``label`` names them): counts the ones before as done."""
        self.update(self.count, label)
        self.count += n

    def advance(self, label: str = "", n: float = 1) -> None:
        """``n`` more units are done (``label`` says which)."""
        self.update(self.count + n, label)

    def update(self, done: float, label: str = "") -> None:
        self.count = done
        pct = int(100 * done / self.total) if self.total else 100
        elapsed = time.monotonic() - self.t0
        if elapsed < QUIET_S:
            return
        amount = f"{done:.0f}/{self.total:.0f}{self.unit}"
        filled = WIDTH * min(pct, 100) // 100
        line = f"{self.what} [{'#' * filled}{'.' * (WIDTH - filled)}] {pct:3d}% {amount}"
        estimate = eta(elapsed, done, self.total)
        line += f" {label[:30]}" if label else ""
        line += f" ({estimate})" if estimate else ""
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
            self.shown = self.printed = True
        elif pct >= self.last_pct + 10 or (pct >= 100 > self.last_pct):
            self.last_pct = pct
            print(line, file=self.stream, flush=True)
            self.printed = True

    def done(self, note: str = "") -> None:
        """Mark the work finished; prints how long it took, if it took long enough to show."""
        elapsed = time.monotonic() - self.t0
        if not self.printed and elapsed < QUIET_S:
            return
        line = f"{self.what}: done in {elapsed:.0f} s" if self.what else f"done in {elapsed:.0f} s"
        line += f" ({note})" if note else ""
        if self.tty:
            self.stream.write("\r\033[K")
        print(line, file=self.stream, flush=True)
        self.shown = False

    def clear(self) -> None:
        """Take the bar off a terminal's line before something else is printed there."""
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.done()
        else:
            self.clear()


def track(items: Iterable[T], what: str, total: int | None = None) -> Iterator[T]:
    """Yield ``items`` while a :class:`Progress` counts them."""
    seq = list(items) if total is None else items
    bar = Progress(what, total if total is not None else len(seq))  # type: ignore[arg-type]
    for item in seq:
        bar.step(str(item) if isinstance(item, str) else "")
        yield item
    bar.done()
