"""A capture sink that records what a real StationCapture hands over (the observer side)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from edge_agent.events import Event
from shared.pcm import Pcm


@dataclass
class RecordingSink:
    runs: dict[int, datetime] = field(default_factory=dict)
    samples: dict[int, int] = field(default_factory=dict)
    pcm: dict[int, list[Pcm]] = field(default_factory=dict)
    ended: list[int] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run_started(self, station: str, run_id: int, start: datetime) -> None:
        with self.lock:
            self.runs[run_id] = start
            self.samples[run_id] = 0
            self.pcm[run_id] = []

    def audio(self, station: str, run_id: int, pcm: Pcm) -> None:
        with self.lock:
            self.samples[run_id] += pcm.samples
            self.pcm[run_id].append(pcm)

    def run_ended(self, station: str, run_id: int) -> None:
        self.ended.append(run_id)

    def event(self, event: Event) -> None:
        with self.lock:
            self.events.append(vars(event))

    def seconds(self, rate: int = 11025) -> float:
        return sum(self.samples.values()) / rate

    def of_kind(self, kind: str) -> list[dict[str, object]]:
        return [e for e in self.events if e["kind"] == kind]
