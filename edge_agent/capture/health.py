"""Signal health of one station: level in dBFS, silence with start and end, state."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.schemas import SourceState


@dataclass
class HealthSnapshot:
    state: SourceState
    since: datetime
    level_dbfs: float | None
    codec: str | None
    sample_rate: int | None
    icy_title: str | None
    detail: str | None


class Health:
    """Thread-safe; the capture thread writes, the heartbeat thread reads ``snapshot()``."""

    def __init__(self, silence_dbfs: float, silence_seconds: float) -> None:
        self._lock = threading.Lock()
        self.silence_dbfs = silence_dbfs
        self.silence_seconds = silence_seconds
        now = datetime.now(UTC)
        self._snap = HealthSnapshot(SourceState.STARTING, now, None, None, None, None, None)
        self._quiet_since: datetime | None = None
        self.silence_start: datetime | None = None  # set while a silence event is open

    def snapshot(self) -> HealthSnapshot:
        with self._lock:
            return HealthSnapshot(**vars(self._snap))

    def _set(self, state: SourceState, at: datetime, detail: str | None = None) -> None:
        if self._snap.state != state:
            self._snap.state = state
            self._snap.since = at
        self._snap.detail = detail

    def connected(self, codec: str | None, sample_rate: int | None) -> None:
        with self._lock:
            self._snap.codec, self._snap.sample_rate = codec, sample_rate

    def down(self, at: datetime, detail: str) -> None:
        with self._lock:
            self._set(SourceState.DOWN, at, detail)
            self._snap.level_dbfs = None
            self._quiet_since = None

    def title(self, title: str) -> None:
        with self._lock:
            self._snap.icy_title = title

    def audio(self, at: datetime, duration: float, level: float) -> tuple[datetime | None, datetime | None]:
        """Account for a chunk; return (silence_started_at, silence_ended_at) transitions."""
        started = ended = None
        with self._lock:
            self._snap.level_dbfs = round(level, 1)
            if level < self.silence_dbfs:
                if self._quiet_since is None:
                    self._quiet_since = at
                if self.silence_start is None and (
                    at + timedelta(seconds=duration) - self._quiet_since
                ) >= timedelta(seconds=self.silence_seconds):
                    self.silence_start = started = self._quiet_since
                    self._set(SourceState.SILENT, self._quiet_since, f"below {self.silence_dbfs:.0f} dBFS")
            else:
                self._quiet_since = None
                if self.silence_start is not None:
                    ended = at
                    self.silence_start = None
                self._set(SourceState.OK, at)
            if (
                self._snap.state in (SourceState.STARTING, SourceState.DOWN)
                and self.silence_start is None
                and level >= self.silence_dbfs
            ):
                self._set(SourceState.OK, at)
        return started, ended
