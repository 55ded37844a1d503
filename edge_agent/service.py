"""The daemon: every source in its own thread → segmenter → outbox (+ excerpts);
an uploader thread and a heartbeat thread; the disk-budget policy; sd_notify.

A source that fails never stops the others; uploads never block capture (the outbox is
the only thing between them). SIGTERM flushes and closes cleanly.
"""

from __future__ import annotations

import base64
import logging
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_agent import heartbeat, sdnotify
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from edge_agent.capture.sources import StationCapture
from edge_agent.config import AgentSettings
from edge_agent.errors import BufferFull
from edge_agent.uploader import CollectorClient, Uploader
from shared.codec import encode
from shared.pcm import Pcm
from shared.schemas import AgentDirectiveV1, SourceStatusV1
from shared.segmenter import Segment, Segmenter

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
        if self.excerpts is not None:
            self.excerpts.flush(station)

    def event(
        self,
        station: str,
        kind: str,
        start: datetime,
        end: datetime | None,
        *,
        reason: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        key: str | None = None,
    ) -> None:
        try:
            self.outbox.add_event(
                station, kind, start, end, reason=reason, title=title, detail=detail, key=key
            )
        except BufferFull as exc:
            log.error("station=%s event lost, disk full: %s", station, exc)

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


class Service:
    def __init__(self, settings: AgentSettings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.outbox = Outbox(settings.outbox_path)
        b = settings.buffer
        self.excerpts = (
            Excerpts(
                settings.data_dir / "excerpts",
                self.outbox,
                settings.fingerprint.sample_rate,
                b.excerpt_bitrate_kbps,
                b.excerpt_hours,
            )
            if b.excerpt_hours > 0
            else None
        )
        if self.excerpts is not None:
            self.excerpts.recover()  # what a crash or power cut left, before any capture starts
        self.pipeline = Pipeline(settings, self.outbox, self.excerpts)
        self.captures = [
            StationCapture(st, settings.fingerprint.sample_rate, settings.health, self.pipeline)
            for st in settings.stations
            if st.enabled
        ]
        self.threads: list[threading.Thread] = []
        self.client: CollectorClient | None = None

    def sources(self) -> list[SourceStatusV1]:
        out = []
        for cap in self.captures:
            snap = cap.health.snapshot()
            out.append(
                SourceStatusV1(
                    station=cap.slug,
                    state=snap.state,
                    since=snap.since,
                    level_dbfs=snap.level_dbfs,
                    codec=snap.codec,
                    sample_rate=snap.sample_rate,
                    icy_title=snap.icy_title,
                    detail=snap.detail,
                )
            )
        return out

    def _thread(self, name: str, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        t.start()
        self.threads.append(t)

    def start(self) -> None:
        # `sodav-agent status` says: fix the cause, then restart. A restart gives parked rows
        # one more try; refused again, they are parked again with the new reason.
        requeued = self.outbox.unpark()
        if requeued:
            log.warning("%d parked row(s) put back in the upload queue at start", requeued)
        for cap in self.captures:
            self._thread(f"capture-{cap.slug}", self._guard, cap)
        token = self.settings.resolved_token()
        if self.settings.collector.url and token is not None:
            self.client = CollectorClient(self.settings, token.get_secret_value())
            uploader = Uploader(self.settings, self.outbox, self.client, self.pipeline.apply_directives)
            self._thread("uploader", uploader.run_forever, self.stop)
            self._thread(
                "heartbeat",
                heartbeat.run_forever,
                self.client,
                self.outbox,
                self.sources,
                self.pipeline.apply_directives,
                self.settings.collector.heartbeat_interval_s,
                self.stop,
                lambda: self.pipeline.memory_drops,
            )
        else:
            log.warning(
                "collector not configured (url or token missing): buffering only; "
                "run `sodav-agent enroll URL CODE`"
            )
        self._thread("housekeeping", self._housekeeping)
        sdnotify.ready()
        log.info("agent=%s started: %d source(s)", self.settings.name, len(self.captures))

    def _guard(self, cap: StationCapture) -> None:
        try:
            cap.run(self.stop)
        except Exception:
            log.exception("station=%s capture thread crashed", cap.slug)

    def _housekeeping(self) -> None:
        interval = sdnotify.watchdog_interval() or 30.0
        while not self.stop.is_set():
            sdnotify.watchdog()
            try:
                # the budget policy is what frees a full disk: it must outlive the problem
                self.enforce_budget()
                self.outbox.set_state("sources", [s.model_dump(mode="json") for s in self.sources()])
                st = self.outbox.stats()
                sdnotify.status(f"{len(self.captures)} sources, {st.queue_depth} segments queued")
            except BufferFull as exc:
                log.error("housekeeping: %s; the oldest excerpts go first, then check the disk", exc)
                sdnotify.status(f"DISK FULL: {exc}")
            except Exception:
                log.exception("housekeeping failed; trying again in %.0f s", min(interval, 30.0))
            self.stop.wait(min(interval, 30.0))

    def disk_usage(self) -> int:
        root = self.settings.data_dir
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())

    def enforce_budget(self) -> None:
        """Over budget: oldest excerpts first; fingerprints only when older than keep_fingerprints_days."""
        if self.excerpts is not None:
            self.excerpts.prune()
        budget = int(self.settings.buffer.disk_budget_mb * 1024 * 1024)
        used = self.disk_usage()
        if used <= budget:
            return
        try:  # space freed by uploads first: nothing is lost by that
            freed = self.outbox.reclaim()
        except BufferFull as exc:
            freed = 0
            log.error("disk budget: the outbox could not be compacted: %s", exc)
        if freed:
            log.info("disk budget: %d kB freed by compacting the outbox", freed >> 10)
            used = self.disk_usage()
            if used <= budget:
                return
        dropped = 0
        while self.excerpts is not None and used > budget and self.excerpts.total_bytes() > 0:
            dropped += self.excerpts.drop_oldest(5)
            used = self.disk_usage()
        if dropped:
            log.warning("disk budget %d MB reached: %d oldest excerpt(s) deleted", budget >> 20, dropped)
        if used > budget:
            keep = timedelta(days=self.settings.buffer.keep_fingerprints_days)
            n = self.outbox.drop_fingerprints_before(datetime.now(UTC) - keep)
            if n:
                log.warning(
                    "disk budget reached: %d unsent segment(s) older than %s days dropped", n, keep.days
                )
            elif self.disk_usage() > budget:
                log.warning(
                    "disk budget %d MB exceeded by unsent fingerprints younger than %s days: kept "
                    "(policy); check the collector link",
                    budget >> 20,
                    keep.days,
                )

    def run_until_stopped(self) -> None:
        self.start()
        try:
            while not self.stop.is_set():
                if (
                    all(not t.is_alive() for t in self.threads if t.name.startswith("capture-"))
                    and self.captures
                ):
                    log.info("every source has ended")
                    break
                self.stop.wait(0.5)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        sdnotify.stopping()
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)
        lost = self.pipeline.flush_pending()
        if lost:
            log.error(
                "%d segment(s) waited in memory for disk space and are lost at shutdown: free the disk",
                lost,
            )
        if self.client is not None:
            self.client.close()
        self.outbox.close()


# What the agent needs free in data_dir to start: the outbox's -wal and -shm files, a page
# or two of rows, the first excerpt page.
MIN_FREE_BYTES = 1 << 20


def disk_full(path: Path) -> bool:
    """Is ``path``'s file system (nearly) full for this user? False if it cannot be read."""
    try:
        return shutil.disk_usage(path).free < MIN_FREE_BYTES
    except OSError:
        return False


def wait_for_room(path: Path, stop: threading.Event, every: float = 5.0) -> bool:
    """At start on a full disk, wait for room instead of exiting; False if stopped meanwhile.

    A full disk clears when someone frees space; exiting would put systemd's restart loop in
    its place, which gives up after ten tries (StartLimitBurst) and leaves the unit failed
    when the space comes back. The wait is said once, in the log and in systemd's status.
    """
    if not disk_full(path):
        return True
    log.error(
        "DISK FULL at start: %s has %d kB free; waiting for space (df -h %s; free old logs: "
        "sudo journalctl --vacuum-size=100M)",
        path,
        shutil.disk_usage(path).free >> 10,
        path,
    )
    sdnotify.ready()
    sdnotify.status(f"DISK FULL: waiting for space in {path}")
    while disk_full(path):
        sdnotify.watchdog()
        if stop.wait(every):
            return False
    log.warning("disk space is back in %s: starting", path)
    return True


def data_dir_ok(path: Path) -> str | None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return f"data_dir {path} is not writable ({exc}); fix its owner or set data_dir"
    return None
