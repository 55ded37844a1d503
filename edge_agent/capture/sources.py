"""Station capture: open, decode, resample, hand over PCM; reconnect on every failure.

Each station runs :meth:`StationCapture.run` in its own thread. A *run* is uninterrupted
audio: its UTC start comes from the capture clock when audio (re)starts, and everything
after is derived from sample counts. Any interruption (EOF, error, stall) ends the run,
opens an outage event, and the next run's first audio closes it. Audio is never invented.
"""

from __future__ import annotations

import errno
import itertools
import logging
import random
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import av
import httpx

from edge_agent import tls
from edge_agent.capture.health import Health
from edge_agent.capture.icy import IcyStream
from edge_agent.config import HealthSettings, SourceKind, StationSettings
from edge_agent.errors import DeviceError, SourceEnded, SourceError, SourceStalled, SourceUnreachable
from shared.pcm import Pcm, mix_stereo

log = logging.getLogger("edge_agent.capture")
# PCM is passed on in blocks of this length (the last one may be shorter). The resampling
# graph keeps buffers the size of a block per station (~1.8 MB at 0.5 s, ~1 MB at 0.25 s);
# shorter than 0.25 s, the per-call cost shows (bench/agent).
FEED_SECONDS = 0.25
FILE_TURN = 32  # packets of a file source decoded per turn (~0.8 s of MP3)
# One station at a time decodes and fingerprints. PyAV, ctypes and SQLite each drop the GIL
# around every C call; stations decoding at once then hand the GIL to each other thousands
# of times a second (measured: 10x the context switches and 2-3x the CPU with 4 stations).
# Each station takes a turn for the CPU work of what it has read, never while it waits on I/O.
CPU_TURN = threading.Lock()
# FFmpeg keeps a seek index of every packet, up to 1 MiB per stream ("indexmem"): an MP3
# station fills it in ~20 min of audio, and the agent never seeks. Measured: the agent's
# memory grew by ~1 MB per station over its first half hour (bench/agent/live.py).
_DEMUX_OPTIONS = {"indexmem": "4096"}


class CaptureSink(Protocol):
    def run_started(self, station: str, run_id: int, start: datetime) -> None: ...
    def audio(self, station: str, run_id: int, pcm: Pcm) -> None: ...
    def run_ended(self, station: str, run_id: int) -> None: ...
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
    ) -> None: ...


@dataclass
class Backoff:
    initial: float
    maximum: float
    attempt: int = 0

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * (2**self.attempt))
        self.attempt += 1
        return float(base / 2 + random.uniform(0, base / 2))  # "equal jitter"

    def reset(self) -> None:
        self.attempt = 0


class Resampler:
    """Any audio frames to mono s16 at ``rate``: abuffer -> aformat (mono) -> aformat -> sink.

    What ``av.AudioResampler`` does, less one thing: its filter graph starts a thread pool
    per graph (one thread per core, for slice threading that audio never uses), i.e. idle
    threads and their stacks for every station. This graph runs in the caller's thread.
    The mixdown comes first, as its own step: resampling one channel instead of two
    halves the graph's CPU (measured on 128 kbit/s stereo MP3).
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._graph: av.filter.Graph | None = None
        self._input: tuple[str, str, int] | None = None

    def _configure(self, frame: av.AudioFrame) -> av.filter.Graph:
        graph = av.filter.Graph()
        graph.threads = 1
        extra = {"time_base": str(frame.time_base)} if frame.time_base is not None else {}
        src = graph.add(
            "abuffer",
            sample_rate=str(frame.sample_rate),
            sample_fmt=frame.format.name,
            channel_layout=frame.layout.name,
            **extra,
        )
        mono = graph.add("aformat", sample_fmts="fltp", channel_layouts="mono")
        fmt = graph.add("aformat", sample_rates=str(self.rate), sample_fmts="s16", channel_layouts="mono")
        sink = graph.add("abuffersink")
        src.link_to(mono)
        mono.link_to(fmt)
        fmt.link_to(sink)
        graph.configure()
        return graph

    def resample(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        if frame is None:
            if self._graph is None:
                return []
        else:
            key = (frame.format.name, frame.layout.name, frame.sample_rate)
            if self._graph is None:
                self._graph, self._input = self._configure(frame), key
            elif key != self._input:
                raise ValueError(f"frame {key} does not match this resampler's input {self._input}")
        self._graph.push(frame)
        out: list[av.AudioFrame] = []
        while True:
            try:
                got = self._graph.pull()
            except EOFError:
                break
            except av.FFmpegError as exc:
                if exc.errno != errno.EAGAIN:
                    raise
                break
            assert isinstance(got, av.AudioFrame)
            out.append(got)
        return out


def _frames_to_pcm(resampler: Resampler, frame: av.AudioFrame | None) -> Iterator[Pcm]:
    for out in resampler.resample(frame):
        if not out.samples:
            continue
        # the resampler's output is packed mono s16: its one plane, cut to the samples (a
        # copy, since the frame's buffer is reused)
        yield Pcm.of(bytes(out.planes[0])[: 2 * out.samples])


class PcmConverter:
    """Decoded frames in, mono int16 PCM at ``rate`` out, one resampler call per block.

    Decoders hand out ~26 ms frames. Resampling them one by one costs a filter-graph round
    trip and a few Python objects per frame, as much CPU as the decoding itself; so planar
    float frames (what MP3, AAC, Vorbis and Opus decoders give) are held until a block of
    ``block_seconds`` is there, joined plane by plane into one frame and resampled in one
    call; stereo is mixed down first, here when the PCM helper is built
    (:func:`shared.pcm.mix_stereo`, FFmpeg's own mixdown to the sample). Other sample
    formats go through frame by frame.
    """

    def __init__(self, rate: int, block_seconds: float) -> None:
        self.rate = rate
        self.block_seconds = block_seconds
        self._resampler: Resampler | None = None
        self._key: tuple[str, str, int] | None = None
        self._held: list[list[bytes]] = []  # per channel, the frames' samples as float32 bytes
        self._held_samples = 0

    def add(self, frame: av.AudioFrame) -> list[Pcm]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        out: list[Pcm] = []
        if key != self._key:  # a new format (or the first frame): a resampler of its own
            out += self.finish()
            self._key = key
            self._resampler = Resampler(self.rate)
            self._held = [[] for _ in frame.planes] if key[0] == "fltp" else []
        assert self._resampler is not None
        if not self._held:
            out += _frames_to_pcm(self._resampler, frame)
            return out
        n = frame.samples
        size = 4 * n
        # a copy of each plane (bytes() is the cheapest way out of a frame: ~1 us)
        for chunks, plane in zip(self._held, frame.planes, strict=True):
            data = bytes(plane)
            chunks.append(data if len(data) == size else data[:size])
        self._held_samples += n
        if self._held_samples >= self.block_seconds * frame.sample_rate:
            out += self._convert()
        return out

    def _convert(self) -> list[Pcm]:
        assert self._resampler is not None and self._key is not None
        fmt, layout, rate = self._key
        planes = [b"".join(chunks) for chunks in self._held]
        if layout == "stereo" and mix_stereo is not None:
            # mixed down here (the PCM helper, as FFmpeg would): the graph's own stereo stage
            # holds three buffers of twice a stereo block, ~0.56 MB per station
            planes, layout = [mix_stereo(*planes)], "mono"
        frame = av.AudioFrame(format=fmt, layout=layout, samples=self._held_samples)
        for plane, data in zip(frame.planes, planes, strict=True):
            plane.update(data)
        frame.sample_rate = rate
        self._held = [[] for _ in self._held]
        self._held_samples = 0
        return list(_frames_to_pcm(self._resampler, frame))

    def finish(self) -> list[Pcm]:
        """Everything still held, and the resampler's tail."""
        if self._resampler is None:
            return []
        out = self._convert() if self._held_samples else []
        out += _frames_to_pcm(self._resampler, None)
        self._resampler, self._key = None, None
        return out


def file_pcm(path: Path | str, rate: int) -> Iterator[Pcm]:
    """A whole file's first audio stream as mono int16 PCM at ``rate``, converted as the
    capture converts it (raises av.FFmpegError/OSError, or IndexError without audio)."""
    with av.open(str(path)) as container:
        conv = PcmConverter(rate, FEED_SECONDS)
        for frame in container.decode(container.streams.audio[0]):
            yield from conv.add(frame)
        yield from conv.finish()


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
        self._outage_start: datetime | None = None
        self._outage_reason: str | None = None
        self._outage_detail: str | None = None
        self._outage_no = 0

    # --- runs -------------------------------------------------------------------------
    def _begin_run(self) -> datetime:
        self.run_id += 1
        start = self.clock()
        if self._outage_start is not None:
            self.sink.event(
                self.slug,
                "outage",
                self._outage_start,
                start,
                reason=self._outage_reason,
                detail=self._outage_detail,
                key=f"outage-{self._outage_no}",
            )
            log.info(
                "station=%s audio back after %.1f s outage",
                self.slug,
                (start - self._outage_start).total_seconds(),
            )
            self._outage_start = None
        self.sink.run_started(self.slug, self.run_id, start)
        return start

    def _fail(self, at: datetime, exc: BaseException) -> None:
        reason = exc.reason if isinstance(exc, SourceError) else "decode_error"
        detail = str(exc)[:500]
        self.health.down(at, detail)
        if self._outage_start is None:
            self._outage_no += 1
            self._outage_start, self._outage_reason, self._outage_detail = at, reason, detail
            # opened now, closed when audio returns: the collector sees the outage while it lasts
            self.sink.event(
                self.slug, "outage", at, None, reason=reason, detail=detail, key=f"outage-{self._outage_no}"
            )
        log.warning("station=%s source problem (%s): %s", self.slug, reason, detail)

    def _feed(self, run_start: datetime, fed: list[int], pcm: Pcm) -> None:
        at = run_start + timedelta(seconds=fed[0] / self.rate)
        started, ended = self.health.audio(at, pcm.samples / self.rate, pcm.level_dbfs)
        if started is not None:
            self.sink.event(
                self.slug,
                "silence",
                started,
                None,
                key=f"silence-{started.isoformat()}",
                detail=f"below {self.cfg.silence_dbfs:.0f} dBFS",
            )
            self._silence_key = f"silence-{started.isoformat()}"
            self._silence_start = started
        if ended is not None:
            self.sink.event(
                self.slug,
                "silence",
                self._silence_start,
                ended,
                key=self._silence_key,
                detail=f"below {self.cfg.silence_dbfs:.0f} dBFS",
            )
        self.sink.audio(self.slug, self.run_id, pcm)
        fed[0] += pcm.samples

    # --- the loop -----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        backoff = Backoff(self.cfg.reconnect_initial_s, self.cfg.reconnect_max_s)
        while not stop.is_set():
            got_audio = [False]
            try:
                self._capture_once(stop, got_audio)
                if self.station.kind == SourceKind.FILE:
                    return
                raise SourceEnded("end of stream (the server closed the connection)")
            except (SourceError, av.FFmpegError, httpx.HTTPError, OSError) as exc:
                if stop.is_set():
                    return
                if self.station.kind == SourceKind.FILE:
                    self._fail(self.clock(), exc)
                    return
                self._fail(self.clock(), exc)
            if got_audio[0]:
                backoff.reset()
            delay = backoff.next_delay()
            log.info("station=%s reconnecting in %.1f s", self.slug, delay)
            stop.wait(delay)

    def _capture_once(self, stop: threading.Event, got_audio: list[bool]) -> None:
        kind = self.station.kind
        if kind == SourceKind.SOUNDCARD:
            self._capture_soundcard(stop, got_audio)
        else:
            self._capture_av(stop, got_audio)

    def _open(self, stack: list[Any]) -> Any:
        st = self.station
        stall_us = str(int(self.cfg.stall_seconds * 1e6))
        if st.kind == SourceKind.FILE:
            return av.open(str(st.path), options=_DEMUX_OPTIONS)
        if st.kind == SourceKind.HTTP:
            assert st.url
            client = httpx.Client(
                timeout=httpx.Timeout(10.0, read=self.cfg.stall_seconds),
                follow_redirects=True,
                headers={"Icy-MetaData": "1", "User-Agent": "sodav-agent"},
                verify=tls.verify(),
            )
            stack.append(client)
            try:
                resp = client.send(client.build_request("GET", st.url), stream=True)
            except httpx.TimeoutException as exc:
                raise SourceUnreachable(f"{st.url}: timeout while connecting") from exc
            except httpx.HTTPError as exc:
                raise SourceUnreachable(f"{st.url}: {exc}") from exc
            stack.append(resp)
            if resp.status_code >= 400:
                raise SourceUnreachable(f"{st.url}: HTTP {resp.status_code}")
            metaint = resp.headers.get("icy-metaint")

            def chunks() -> Iterator[bytes]:
                try:
                    yield from resp.iter_raw(8192)
                except httpx.ReadTimeout as exc:
                    raise SourceStalled(f"no data for {self.cfg.stall_seconds:.0f} s") from exc

            def on_title(title: str) -> None:
                self.health.title(title)
                self.sink.event(self.slug, "metadata", self.clock(), None, title=title)
                log.info("station=%s title %r", self.slug, title)

            reader = IcyStream(chunks(), int(metaint) if metaint and metaint.isdigit() else None, on_title)
            return av.open(reader, mode="r", options=_DEMUX_OPTIONS)
        assert st.url
        return av.open(st.url, options={**_DEMUX_OPTIONS, "rw_timeout": stall_us, "timeout": stall_us})

    def _capture_av(self, stop: threading.Event, got_audio: list[bool]) -> None:
        stack: list[Any] = []
        container = None
        run_start: datetime | None = None
        fed = [0]
        converter: PcmConverter | None = None
        try:
            container = self._open(stack)
            if not container.streams.audio:
                raise SourceError("no audio stream in the source")
            stream = container.streams.audio[0]
            self.health.connected(stream.codec_context.name, stream.codec_context.sample_rate)
            converter = PcmConverter(self.rate, FEED_SECONDS)
            t_wall0 = time.monotonic()
            realtime = self.station.kind != SourceKind.FILE or self.station.realtime
            if self.station.kind == SourceKind.FILE and self.station.start:
                self.clock = _fixed_clock(self.station.start)
            # a live source hands each packet over as it arrives, and waits for the next one
            # outside its turn; a file is read and decoded FILE_TURN packets per turn
            live = self.station.kind != SourceKind.FILE
            packets = container.demux(stream)
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
                            frames = packet.decode()
                        except av.FFmpegError as exc:
                            self.decode_errors += 1
                            log.debug("station=%s skipped a damaged packet: %s", self.slug, exc)
                            continue
                        for frame in frames:
                            if not frame.samples:
                                continue
                            if run_start is None:
                                # the run starts at its first audio, not when the first block is out
                                run_start = self._begin_run()
                                got_audio[0] = True
                            for pcm in converter.add(frame):
                                self._feed(run_start, fed, pcm)
                if not batch:
                    break
                if realtime and not live:
                    ahead = fed[0] / self.rate - (time.monotonic() - t_wall0)
                    if ahead > 0:
                        stop.wait(ahead)
        finally:
            if converter is not None and run_start is not None:  # audio decoded is never dropped
                with CPU_TURN:
                    for pcm in converter.finish():
                        self._feed(run_start, fed, pcm)
            if self.run_id and got_audio[0]:
                self.sink.run_ended(self.slug, self.run_id)
            if container is not None:
                container.close()
            for obj in reversed(stack):
                obj.close()

    def _capture_soundcard(self, stop: threading.Event, got_audio: list[bool]) -> None:
        import queue

        import sounddevice as sd

        st = self.station
        q: queue.Queue[bytes] = queue.Queue(maxsize=200)
        channels = st.channel or 1  # the channel asked for is the last one opened

        def callback(indata: Any, _frames: int, _time: Any, status: Any) -> None:
            if status:
                log.debug("station=%s portaudio status %s", self.slug, status)
            data = bytes(indata)  # interleaved int16, ``channels`` per frame
            if channels > 1:
                samples = array("h")
                samples.frombytes(data)
                data = samples[channels - 1 :: channels].tobytes()
            try:
                q.put_nowait(data)
            except queue.Full:
                pass

        try:
            stream = sd.RawInputStream(
                device=st.device,
                channels=channels,
                samplerate=st.device_sample_rate,
                dtype="int16",
                callback=callback,
                blocksize=st.device_sample_rate // 10,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise DeviceError(f"sound card {st.device!r}: {exc}; see `sodav-agent devices`") from exc
        resampler = Resampler(self.rate)
        run_start: datetime | None = None
        fed = [0]
        with stream:
            self.health.connected("pcm_s16le", st.device_sample_rate)
            try:
                while not stop.is_set():
                    try:
                        block = q.get(timeout=self.cfg.stall_seconds)
                    except queue.Empty as exc:
                        raise SourceStalled(
                            f"sound card gave no audio for {self.cfg.stall_seconds:.0f} s"
                        ) from exc
                    if not block:
                        continue
                    frame = av.AudioFrame(format="s16", layout="mono", samples=len(block) // 2)
                    frame.planes[0].update(block)
                    frame.sample_rate = st.device_sample_rate
                    with CPU_TURN:
                        for pcm in _frames_to_pcm(resampler, frame):
                            if run_start is None:
                                run_start = self._begin_run()
                                got_audio[0] = True
                            self._feed(run_start, fed, pcm)
            finally:
                if run_start is not None:
                    self.sink.run_ended(self.slug, self.run_id)


def _fixed_clock(start: str) -> Callable[[], datetime]:
    t = datetime.fromisoformat(start.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise SourceError(f"start {start!r} needs a timezone, e.g. 2026-01-01T00:00:00Z")
    return lambda: t
