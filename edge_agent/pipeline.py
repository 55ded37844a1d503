"""The capture sink: each station's audio into fingerprint segments in the outbox (and into
excerpts), its events into the outbox; a full disk keeps segments in memory meanwhile.

Every capture thread calls in here. Writing a segment waits for no network: the outbox is
the only thing between capture and upload.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import datetime, timedelta

from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from edge_agent.config import AgentSettings
from edge_agent.errors import BufferFull
from edge_agent.events import Event
from shared.codec import encode
from shared.pcm import Pcm
from shared.schemas import AgentDirectiveV1
from shared.segmenter import Segment, Segmenter

__all__ = ["Pipeline"]

log = logging.getLogger("edge_agent.service")


class Pipeline:
    """The capture sink: segments and events into the outbox, audio into excerpts."""

    # while the disk is full, segments wait in memory; past this many (a day of 10 s segments
    # for one station) the oldest is dropped, counted, and the count written once there is room
    MEMORY_QUEUE_MAX = 8640

    def __init__(self, settings: AgentSettings, outbox: Outbox, excerpts: Excerpts | None) -> None:
        self.settings = settings
        self.outbox = outbox
        self.excerpts = excerpts
        self._segmenters: dict[str, Segmenter] = {}
        self._fed: dict[str, int] = {}
        self._variants: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self.segments_written = 0
        self.pending: list[tuple[str, Segment]] = []  # kept in memory only while the disk is full
        self.memory_drops = 0  # segments dropped from memory, not yet added to the outbox's count
        self._store_lock = threading.Lock()
        self._full_since: float | None = None
        self._full_logged = 0.0
        for st in settings.stations:
            saved = outbox.get_state(f"variants:{st.slug}")
            self._variants[st.slug] = (
                st.rate_variants_ppm or saved or settings.fingerprint.default_rate_variants_ppm
            )

    def variants(self, station: str) -> list[int]:
        return list(self._variants[station])

    def apply_directives(self, directives: list[AgentDirectiveV1]) -> None:
        overrides = {s.slug for s in self.settings.stations if s.rate_variants_ppm}
        for d in directives:
            if d.station not in self._variants or d.station in overrides:
                continue
            if d.rate_variants_ppm != self._variants[d.station]:
                log.info(
                    "station=%s rate variants now %s (collector directive)", d.station, d.rate_variants_ppm
                )
                self._variants[d.station] = list(d.rate_variants_ppm)
                self.outbox.set_state(f"variants:{d.station}", d.rate_variants_ppm)
                with self._lock:
                    seg = self._segmenters.get(d.station)
                if seg is not None:
                    seg.set_variants(d.rate_variants_ppm)

    # --- CaptureSink --------------------------------------------------------------------
    def run_started(self, station: str, run_id: int, start: datetime) -> None:
        fp = self.settings.fingerprint
        with self._lock:
            self._segmenters[station] = Segmenter(
                fp.sample_rate, fp.segment_seconds, self._variants[station], start
            )
            self._fed[station] = 0

    def audio(self, station: str, run_id: int, pcm: Pcm) -> None:
        seg = self._segmenters[station]
        if self.excerpts is not None:
            at = seg.run_start + timedelta(seconds=self._fed[station] / seg.sample_rate)
            self.excerpts.add(station, at, pcm)
        self._fed[station] += pcm.samples
        self._store(station, seg.feed(pcm))

    def run_ended(self, station: str, run_id: int) -> None:
        with self._lock:
            seg = self._segmenters.pop(station, None)
        if seg is not None:
            self._store(station, seg.finish())
            # where this station's audio ended: after a restart, the server's burst repeats
            # that audio, and the new run starts here (edge_agent.capture.station._release)
            end = seg.run_start + timedelta(seconds=seg.seconds_fed)
            try:
                self.outbox.set_state(f"audio_end:{station}", end.isoformat())
            except BufferFull as exc:
                log.warning("station=%s end of audio not recorded: %s", station, exc)
        if self.excerpts is not None:
            self.excerpts.flush(station)

    def audio_end(self, station: str) -> datetime | None:
        """Where ``station``'s audio ended when the agent last stopped (or lost it)."""
        saved = self.outbox.get_state(f"audio_end:{station}")
        return datetime.fromisoformat(saved) if isinstance(saved, str) else None

    def event(self, event: Event) -> None:
        try:
            self.outbox.add_event(event)
        except BufferFull as exc:
            log.error("station=%s event lost, disk full: %s", event.station, exc)

    def _store(self, station: str, segments: list[Segment]) -> None:
        # every capture thread comes here: one at a time, or two threads would write the same
        # waiting segment twice and pop another one unwritten
        with self._store_lock:
            self.pending.extend((station, s) for s in segments)
            while self.pending:
                st, s = self.pending[0]
                blobs = [base64.b64encode(encode(fp)).decode() for fp in s.fingerprints]
                try:
                    self.outbox.add_segment(st, s.start, s.duration, s.level_dbfs, blobs)
                except BufferFull as exc:
                    self._disk_full(st, exc)
                    return
                self.pending.pop(0)
                self.segments_written += 1
            if self._full_since is not None:
                log.warning(
                    "disk space is back after %.0f s: the segments kept in memory are written",
                    time.monotonic() - self._full_since,
                )
                self._full_since = None
            if self.memory_drops:
                try:
                    self.outbox.count_drop("fingerprints", self.memory_drops)
                except BufferFull:
                    return
                log.error(
                    "%d segment(s) were dropped from memory while the disk was full: counted in "
                    "dropped_fingerprints",
                    self.memory_drops,
                )
                self.memory_drops = 0

    def _disk_full(self, station: str, exc: BufferFull) -> None:
        now = time.monotonic()
        # said once, then once a minute: the log must not flood a full disk
        if self._full_since is None or now - self._full_logged >= 60:
            log.error(
                "station=%s DISK FULL: segment kept in memory (%d waiting), freeing excerpts: %s",
                station,
                len(self.pending),
                exc,
            )
            self._full_logged = now
        if self._full_since is None:
            self._full_since = now
        if self.excerpts is not None:
            try:
                self.excerpts.drop_oldest(10)
            except BufferFull as full:
                log.debug("station=%s excerpts could not be freed: %s", station, full)
        if len(self.pending) > self.MEMORY_QUEUE_MAX:
            self.pending.pop(0)
            self.memory_drops += 1
            self.outbox_drop_memory()

    def flush_pending(self) -> int:
        """Try once more to write what waits in memory; return how many are still waiting."""
        self._store("", [])
        return len(self.pending)

    def outbox_drop_memory(self) -> None:
        log.error(
            "memory queue full while the disk is full: the oldest waiting segment is dropped "
            "(%d so far; counted in dropped_fingerprints once the disk has room)",
            self.memory_drops,
        )
