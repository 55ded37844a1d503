"""One station's capture: open, decode, resample, hand over PCM; reconnect on every failure.

Each station runs :meth:`StationCapture.run` in its own thread. A *run* is uninterrupted
audio: its UTC start comes from the capture clock when audio (re)starts, and everything
after is derived from sample counts. Any interruption (EOF, error, stall) ends the run,
opens an outage event, and the next run's first audio closes it. Audio is never invented.
Reconnection waits follow :func:`edge_agent.retry.backoff`, starting over after a run that
had audio.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import av
import httpx
from tenacity import RetryCallState

from edge_agent import retry
from edge_agent.capture.airtime import AirTime
from edge_agent.capture.health import Health
from edge_agent.capture.soundcard import SoundcardInput
from edge_agent.capture.stream import open_container
from edge_agent.config import HealthSettings, SourceKind, StationSettings
from edge_agent.errors import SourceEnded, SourceError
from edge_agent.events import Event
from shared.audio import BLOCK_SECONDS, PcmConverter, Resampler, frames_to_pcm
from shared.pcm import Pcm

__all__ = ["CPU_TURN", "CaptureSink", "StationCapture"]

log = logging.getLogger("edge_agent.capture")
FILE_TURN = 32  # packets of a file source decoded per turn (~0.8 s of MP3)
# One station at a time decodes and fingerprints. PyAV, ctypes and SQLite each drop the GIL
# around every C call; stations decoding at once then hand the GIL to each other thousands
# of times a second (measured: 10x the context switches and 2-3x the CPU with 4 stations).
# Each station takes a turn for the CPU work of what it has read, never while it waits on I/O.
CPU_TURN = threading.Lock()
# a new run overlapping the last one by more than this is not trimmed (see _release)
MAX_OVERLAP_S = 120.0
# what ends a connection and is worth reconnecting for; anything else is a bug, logged
CAPTURE_ERRORS = (SourceError, av.FFmpegError, httpx.HTTPError, OSError)


class CaptureSink(Protocol):
    def run_started(self, station: str, run_id: int, start: datetime) -> None: ...
    def audio(self, station: str, run_id: int, pcm: Pcm) -> None: ...
    def run_ended(self, station: str, run_id: int) -> None: ...
    def event(self, event: Event) -> None: ...


class _Run:
    """One connection's audio: its run number and the UTC start of its first sample (both
    set when the run starts), the samples handed over since; for a live source, its air time
    and the audio held until that is known."""

    def __init__(self, air: AirTime | None) -> None:
        self.id = 0
        self.start: datetime | None = None
        self.samples = 0
        self.air = air
        self.held: list[Pcm] = []
        self.held_samples = 0
        self.skip = 0  # samples still to drop: the previous run had them already


class StationCapture:
    """Capture one station forever (or until ``stop``), reporting to ``sink``."""

    def __init__(
        self,
        station: StationSettings,
        sample_rate: int,
        health_cfg: HealthSettings,
        sink: CaptureSink,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audio_end: datetime | None = None,
    ) -> None:
        self.station = station
        self.slug = station.slug
        self.rate = sample_rate
        self.cfg = health_cfg
        self.sink = sink
        self.clock = clock
        self.health = Health(health_cfg.silence_dbfs, health_cfg.silence_seconds)
        self.run_id = 0
        self.decode_errors = 0
        self.reconnects = 0  # connections that failed or ended (each is followed by a reconnect)
        self._run = _Run(None)
        # where the last run's audio ended (the last process's, at start): a new run of a live
        # source starts there at the earliest, its burst's repeat of that audio dropped
        self.audio_end = audio_end
        self._outage: Event | None = None  # open while the station has no audio
        self._outages = 0
        self._silence: Event | None = None  # open while the station is silent

    # --- runs and events ------------------------------------------------------------------
    def _begin_run(self, run: _Run, start: datetime) -> None:
        self.run_id += 1
        run.id = self.run_id
        run.start = start
        if self._outage is not None:
            self.sink.event(replace(self._outage, end=max(start, self._outage.start)))
            log.info(
                "station=%s audio back after %.1f s outage",
                self.slug,
                (start - self._outage.start).total_seconds(),
            )
            self._outage = None
        self.sink.run_started(self.slug, run.id, start)

    def _fail(self, at: datetime, exc: BaseException) -> None:
        self.reconnects += 1
        reason = exc.reason if isinstance(exc, SourceError) else "decode_error"
        detail = str(exc)[:500]
        self.health.down(at, detail)
        if self._outage is None:
            self._outages += 1
            # opened now, closed when audio returns: the collector sees the outage while it lasts
            self._outage = Event(
                self.slug, "outage", at, reason=reason, detail=detail, key=f"outage-{self._outages}"
            )
            self.sink.event(self._outage)
        log.warning("station=%s source problem (%s): %s", self.slug, reason, detail)

    def _feed(self, run: _Run, pcm: Pcm) -> None:
        assert run.start is not None
        at = run.start + timedelta(seconds=run.samples / self.rate)
        started, ended = self.health.audio(at, pcm.samples / self.rate, pcm.level_dbfs)
        if started is not None:
            self._silence = Event(
                self.slug,
                "silence",
                started,
                key=f"silence-{started.isoformat()}",
                detail=f"below {self.cfg.silence_dbfs:.0f} dBFS",
            )
            self.sink.event(self._silence)
        if ended is not None and self._silence is not None:
            self.sink.event(replace(self._silence, end=ended))
            self._silence = None
        self.sink.audio(self.slug, run.id, pcm)
        run.samples += pcm.samples

    def _take(self, run: _Run, pcm: Pcm) -> None:
        """A block of the run's audio. A file's run starts at its first block, by the capture
        clock; a live source's blocks wait until its air time is known (:mod:`.airtime`)."""
        if run.skip:
            drop = min(run.skip, pcm.samples)
            run.skip -= drop
            if drop == pcm.samples:
                return
            pcm = Pcm.of(pcm.data[2 * drop :])
        if run.start is not None:
            self._feed(run, pcm)
        elif run.air is None:
            self._begin_run(run, self.clock())
            self._feed(run, pcm)
        else:
            run.held.append(pcm)
            run.held_samples += pcm.samples
            if run.air.settled(run.held_samples / self.rate):
                self._release(run)

    def _release(self, run: _Run) -> None:
        """Start a live run at its air time and hand over the audio held until then. What the
        previous run already had (a reconnect's burst repeats it) is dropped, not sent twice."""
        assert run.air is not None and run.air.start is not None
        start = run.air.start
        if self.audio_end is not None and start < self.audio_end:
            overlap = (self.audio_end - start).total_seconds()
            if overlap <= MAX_OVERLAP_S:
                run.skip = round(overlap * self.rate)
                start += timedelta(seconds=run.skip / self.rate)
            else:  # the clock was set back, most likely: keep the audio, say so
                log.warning(
                    "station=%s new audio starts %.0f s before the last run ended: the clock changed?",
                    self.slug,
                    overlap,
                )
        late = (run.air.connected_at - run.air.start).total_seconds()
        log.debug("station=%s connected with %.1f s of buffered audio", self.slug, late)
        held, run.held, run.held_samples = run.held, [], 0
        self._begin_run(run, start)
        for pcm in held:
            self._take(run, pcm)

    def _end_run(self, run: _Run) -> None:
        if run.start is None and run.held:  # the connection ended while its audio waited
            self._release(run)
        if run.start is None:
            return
        if run.air is not None:
            self.audio_end = run.start + timedelta(seconds=run.samples / self.rate)
        self.sink.run_ended(self.slug, run.id)

    def _on_title(self, title: str) -> None:
        self.health.title(title)
        self.sink.event(Event(self.slug, "metadata", self.clock(), title=title))
        log.info("station=%s title %r", self.slug, title)

    # --- the loop -----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        policy = retry.policy(
            stop,
            CAPTURE_ERRORS,
            retry.backoff(self.cfg.reconnect_initial_s, self.cfg.reconnect_max_s),
            after=self._after_attempt,
            before_sleep=self._before_reconnect,
        )
        policy(self._connect, stop)

    def listen(self, until: Callable[[], bool], timeout: float) -> None:
        """For the technician's commands: capture in a thread until ``until()`` holds, the
        capture ends (a file) or ``timeout`` seconds pass; then stop."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until() and thread.is_alive():
            time.sleep(0.1)
        stop.set()
        thread.join(5)

    def _after_attempt(self, state: RetryCallState) -> None:
        if self._run.start is not None:  # the connection had audio: the backoff starts over
            state.attempt_number = 1

    def _before_reconnect(self, state: RetryCallState) -> None:
        log.info("station=%s reconnecting in %.1f s", self.slug, state.upcoming_sleep)

    def _connect(self, stop: threading.Event) -> None:
        """One connection, until it ends (an error) or ``stop``; a file source ends for good."""
        live = self.station.kind != SourceKind.FILE
        self._run = run = _Run(AirTime(self.clock) if live else None)
        try:
            if self.station.kind == SourceKind.SOUNDCARD:
                self._capture_soundcard(stop, run)
            else:
                self._capture_av(stop, run)
            if self.station.kind == SourceKind.FILE or stop.is_set():
                return
            raise SourceEnded("end of stream (the server closed the connection)")
        except CAPTURE_ERRORS as exc:
            if stop.is_set():
                return
            self._fail(self.clock(), exc)
            if self.station.kind == SourceKind.FILE:
                return
            raise

    def _capture_av(self, stop: threading.Event, run: _Run) -> None:
        converter: PcmConverter | None = None
        try:
            with ExitStack() as stack:
                container = open_container(self.station, self.cfg, self._on_title, stack)
                if not container.streams.audio:
                    raise SourceError("no audio stream in the source")
                stream = container.streams.audio[0]
                self.health.connected(stream.codec_context.name, stream.codec_context.sample_rate)
                converter = PcmConverter(self.rate, BLOCK_SECONDS)
                self._decode(stop, run, container.demux(stream), converter)
        finally:
            with CPU_TURN:
                if converter is not None:  # audio decoded is never dropped
                    for pcm in converter.finish():
                        self._take(run, pcm)
                self._end_run(run)

    def _decode(self, stop: threading.Event, run: _Run, packets: Any, converter: PcmConverter) -> None:
        st = self.station
        t_wall0 = time.monotonic()
        realtime = st.kind != SourceKind.FILE or st.realtime
        if st.kind == SourceKind.FILE and st.start:
            self.clock = _fixed_clock(st.start)
        # a live source hands each packet over as it arrives, and waits for the next one
        # outside its turn; a file is read and decoded FILE_TURN packets per turn
        live = st.kind != SourceKind.FILE
        arrived = 0.0  # seconds of audio this connection has given
        while not stop.is_set():
            waited: list[Any] = []
            if live:
                waited = list(itertools.islice(packets, 1))
                if not waited:
                    break
            with CPU_TURN:
                batch = waited or list(itertools.islice(packets, FILE_TURN))
                for packet in batch:
                    try:
                        frames = [f for f in packet.decode() if f.samples]
                    except av.FFmpegError as exc:
                        self.decode_errors += 1
                        log.debug("station=%s skipped a damaged packet: %s", self.slug, exc)
                        continue
                    if run.air is not None and frames:
                        arrived += sum(f.samples / f.sample_rate for f in frames)
                        run.air.arrived(arrived)
                    for frame in frames:
                        for pcm in converter.add(frame):
                            self._take(run, pcm)
            if not batch:
                break
            if realtime and not live:
                ahead = run.samples / self.rate - (time.monotonic() - t_wall0)
                if ahead > 0:
                    stop.wait(ahead)

    def _capture_soundcard(self, stop: threading.Event, run: _Run) -> None:
        st = self.station
        with SoundcardInput(st, self.cfg.stall_seconds) as card:
            self.health.connected("pcm_s16le", card.rate)
            resampler = Resampler(self.rate)
            arrived = 0.0
            try:
                for block in card.blocks(stop):
                    frame = av.AudioFrame(format="s16", layout="mono", samples=len(block) // 2)
                    frame.planes[0].update(block)
                    frame.sample_rate = card.rate
                    assert run.air is not None
                    arrived += frame.samples / card.rate
                    run.air.arrived(arrived)
                    with CPU_TURN:
                        for pcm in frames_to_pcm(resampler, frame):
                            self._take(run, pcm)
            finally:
                with CPU_TURN:
                    self._end_run(run)


def _fixed_clock(start: str) -> Callable[[], datetime]:
    t = datetime.fromisoformat(start.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise SourceError(f"start {start!r} needs a timezone, e.g. 2026-01-01T00:00:00Z")
    return lambda: t
