"""When did a live source's audio air? From the audio itself, bounded by when it arrived.

A server hands a new listener the audio it has buffered, at once: Icecast's burst-on-connect
(64 KiB by default, 4 s at 128 kbit/s; more on a busy server), an HLS playlist's last
segments; then the audio comes in real time (HLS: a segment at a time). Stamping a run with
the time its first audio arrived placed that burst after the connect time and made the whole
run late by the burst's length: a reconnect moved a song's recording offset by 7.2 s against
the play time, and split its play in two (issue #16).

Audio that has arrived has aired: when ``s`` seconds of a connection's audio have arrived by
instant ``t``, its first sample aired at ``t - s`` or before. Each arrival gives such a
bound; the run starts at the tightest one, once the burst is over: when the bound has not
moved for :data:`SETTLE_S` (the audio arrives no faster than it plays), or when
:data:`MAX_HOLD_S` of audio is waiting. Until then the capture holds the run's PCM, so the
start is known before any of it is used. Times after the start come from sample counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

__all__ = ["MAX_HOLD_S", "SETTLE_S", "AirTime"]

# the bound must stay put this long after the last time it moved earlier by more than _MOVED
SETTLE_S = 1.5
# audio held at most, whatever the bound does (a source that keeps arriving faster than real
# time, e.g. a file served over HTTP): ~0.66 MB per station at 11025 Hz
MAX_HOLD_S = 30.0
_MOVED = timedelta(seconds=0.1)


class AirTime:
    """The start of one connection's audio: ``arrived(seconds)`` after each packet, then ``start``."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.connected_at = clock()  # audio placed before this had been buffered by the server
        self.start: datetime | None = None  # the tightest bound so far
        self._moved = time.monotonic()

    def arrived(self, seconds: float) -> None:
        """``seconds`` of this connection's audio have arrived, in all, by now."""
        bound = self.clock() - timedelta(seconds=seconds)
        if self.start is None or bound < self.start - _MOVED:
            self._moved = time.monotonic()
        if self.start is None or bound < self.start:
            self.start = bound

    def settled(self, held_seconds: float) -> bool:
        """Is the burst over (or is enough audio held) to start the run at :attr:`start`?"""
        if self.start is None:
            return False
        return held_seconds >= MAX_HOLD_S or time.monotonic() - self._moved >= SETTLE_S
