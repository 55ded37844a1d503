"""Decoded audio to mono 16-bit PCM at one rate: the capture's converter and the file decoder.

One way to turn audio into the PCM that Chromaprint wants, used by the agent's capture (live
frames), by ``sodav-agent fingerprint`` and the excerpt cutter (files), and meant for the
collector's tools too: a file decodes here to the very samples the capture would give.

No numpy: the agent never imports it (14 MB of RSS on a box, bench/agent). PCM travels as
:class:`shared.pcm.Pcm` blocks; the collector's tools turn them into arrays themselves
(``numpy.frombuffer(pcm.data, "<i2")``).

Importing this module imports PyAV; ``import shared`` does not (its names are loaded on
first use).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import av

from shared.pcm import Pcm, mix_stereo

__all__ = ["BLOCK_SECONDS", "AudioError", "PcmConverter", "Resampler", "file_pcm", "frames_to_pcm"]

# PCM is passed on in blocks of this length (the last one may be shorter). The resampling
# graph keeps buffers the size of a block per station (~1.8 MB at 0.5 s, ~1 MB at 0.25 s);
# shorter than 0.25 s, the per-call cost shows (bench/agent).
BLOCK_SECONDS = 0.25


class AudioError(ValueError):
    """A file cannot be decoded; the message names it and says why."""


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


def frames_to_pcm(resampler: Resampler, frame: av.AudioFrame | None) -> Iterator[Pcm]:
    """What ``resampler`` gives for ``frame`` (None: its tail), as PCM blocks."""
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

    def __init__(self, rate: int, block_seconds: float = BLOCK_SECONDS) -> None:
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
            out += frames_to_pcm(self._resampler, frame)
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
        return list(frames_to_pcm(self._resampler, frame))

    def finish(self) -> list[Pcm]:
        """Everything still held, and the resampler's tail."""
        if self._resampler is None:
            return []
        out = self._convert() if self._held_samples else []
        out += frames_to_pcm(self._resampler, None)
        self._resampler, self._key = None, None
        return out


def file_pcm(path: Path | str, rate: int, block_seconds: float = BLOCK_SECONDS) -> Iterator[Pcm]:
    """A whole file's first audio stream as mono int16 PCM at ``rate``, converted as the
    capture converts it. A damaged packet is skipped, as the capture skips it; a file that
    cannot be opened or read, or has no audio, raises :class:`AudioError`."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise AudioError(f"{path}: cannot open ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        conv = PcmConverter(rate, block_seconds)
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    continue  # a damaged packet: skip it, keep the rest
                for frame in frames:
                    if frame.samples:
                        yield from conv.add(frame)
            yield from conv.finish()
        except (av.FFmpegError, OSError) as exc:
            raise AudioError(f"{path}: decoding failed ({exc})") from exc
