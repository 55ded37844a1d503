"""The daemon: every source in its own thread, into the pipeline; an uploader thread and a
heartbeat thread; housekeeping (disk budget, sd_notify status and watchdog).

A source that fails never stops the others; uploads never block capture (the outbox is
the only thing between them). SIGTERM flushes and closes cleanly.
"""

from __future__ import annotations

import logging
import threading

from edge_agent import heartbeat, metrics, sdnotify
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from edge_agent.capture.station import StationCapture
from edge_agent.client import CollectorClient
from edge_agent.config import AgentSettings
from edge_agent.disk import DiskBudget
from edge_agent.errors import BufferFull
from edge_agent.excerpt_requests import ExcerptResponder
from edge_agent.pipeline import Pipeline
from edge_agent.uploader import Uploader
from shared.schemas import SourceStatusV1

__all__ = ["Service"]

log = logging.getLogger("edge_agent.service")


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
        self.budget = DiskBudget(settings.data_dir, settings.buffer, self.outbox, self.excerpts)
        self.captures = [
            StationCapture(
                st,
                settings.fingerprint.sample_rate,
                settings.health,
                self.pipeline,
                audio_end=self.pipeline.audio_end(st.slug),
            )
            for st in settings.stations
            if st.enabled
        ]
        self.threads: list[threading.Thread] = []
        self.client: CollectorClient | None = None
        self.uploader: Uploader | None = None
        self.responder: ExcerptResponder | None = None

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

    def metrics(self) -> metrics.Snapshot:
        up = self.uploader
        return metrics.Snapshot(
            agent=self.settings.name or "unnamed",
            outbox=self.outbox.stats(),
            sources=self.sources(),
            reconnects={cap.slug: cap.reconnects for cap in self.captures},
            segments_written=self.pipeline.segments_written,
            memory_drops=self.pipeline.memory_drops,
            last_attempt_ok=None if up is None or up.attempts == 0 else up.last_error is None,
        )

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
            self.responder = ExcerptResponder(
                self.client, self.excerpts, self.settings.buffer.excerpt_hours, self.settings.data_dir
            )
            self.uploader = Uploader(
                self.settings, self.outbox, self.client, self.pipeline.apply_directives, self.responder.submit
            )
            self._thread("uploader", self.uploader.run_forever, self.stop)
            self._thread("excerpt-requests", self.responder.run_forever, self.stop)
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
                self.responder.submit,
            )
        else:
            log.warning(
                "collector not configured (url or token missing): buffering only; "
                "run `sodav-agent enroll URL CODE`"
            )
        self._thread("housekeeping", self._housekeeping)
        m = self.settings.metrics
        if m.textfile is not None:
            self._thread("metrics", metrics.run_forever, m.textfile, m.interval_s, self.metrics, self.stop)
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
                self.budget.enforce()
                self.outbox.set_state("sources", [s.model_dump(mode="json") for s in self.sources()])
                st = self.outbox.stats()
                sdnotify.status(f"{len(self.captures)} sources, {st.queue_depth} segments queued")
            except BufferFull as exc:
                log.error("housekeeping: %s; the oldest excerpts go first, then check the disk", exc)
                sdnotify.status(f"DISK FULL: {exc}")
            except Exception:
                log.exception("housekeeping failed; trying again in %.0f s", min(interval, 30.0))
            self.stop.wait(min(interval, 30.0))

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
