"""Compressed audio of the last hours per station: proof of play, and AudD's input.

Each station's audio is encoded as it arrives, in the capture thread, into one Ogg/Opus file
per minute (mono, 24 kbit/s by default, ~180 kB a minute), indexed in the outbox database
when the minute is complete. Nothing waits in memory: a minute used to be gathered as PCM
(1.3 MB per station) and handed to an ``ffmpeg`` child, which also cost a process start per
station-minute. A minute being written is ``<start>.ogg.part``; after a crash or power cut
the next start indexes what such a file holds (written out every ~1 s of audio). Files older
than ``excerpt_hours`` are deleted; under disk pressure the oldest go first (and are counted).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av

from edge_agent.buffer.ogg import OPUS_GRANULE_RATE, OggOpusWriter, opus_tags
from edge_agent.buffer.outbox import Outbox
from edge_agent.errors import BufferFull
from shared.audio import file_pcm
from shared.pcm import Pcm

log = logging.getLogger("edge_agent.excerpts")
CHUNK_SECONDS = 60.0
# libopus takes 8, 12, 16, 24 or 48 kHz; the first at or above the agent's rate keeps its
# whole band (11025 Hz audio -> 12 kHz) for the least work.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_TAGS = opus_tags("sodav-agent (libopus)", ["ENCODER=sodav-agent"])
PART = ".part"
_NAME = "%Y%m%dT%H%M%S.%fZ"


def _iso(t: datetime) -> str:
    # one width (microseconds always): SQL compares these as text, and "…:00Z" sorts after
    # "…:00.5Z"; rows written before migration 002 had both forms
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def opus_rate(rate: int) -> int:
    return next((r for r in OPUS_RATES if r >= rate), OPUS_RATES[-1])


class _Minute:
    """One station's current excerpt file, encoded block by block."""

    def __init__(self, path: Path, start: datetime, rate: int) -> None:
        self.path, self.start, self.rate = path, start, rate
        self.samples = 0
        self.failed = False
        self.part = path.with_name(path.name + PART)
        self._file: BinaryIO | None = None
        self._ogg: OggOpusWriter | None = None
        self._codec: av.AudioCodecContext | None = None
        self._granule_per_tick = 1

    def open(self, bitrate_kbps: int) -> None:
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, av.AudioCodecContext)
        codec.sample_rate = opus_rate(self.rate)
        codec.layout = "mono"
        codec.format = "s16"
        codec.bit_rate = bitrate_kbps * 1000
        codec.time_base = Fraction(1, codec.sample_rate)
        codec.options = {"application": "audio"}
        codec.open()
        self._granule_per_tick = OPUS_GRANULE_RATE // codec.sample_rate
        self._codec = codec
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # unbuffered: each page (~1 s of audio) reaches the file at once
        self._file = self.part.open("wb", buffering=0)
        self._ogg = OggOpusWriter(self._file, bytes(codec.extradata or b""), _TAGS)

    @property
    def seconds(self) -> float:
        return self.samples / self.rate

    def write(self, pcm: Pcm) -> None:
        assert self._codec is not None
        frame = av.AudioFrame(format="s16", layout="mono", samples=pcm.samples)
        frame.planes[0].update(pcm.data)
        frame.sample_rate = self.rate
        frame.time_base = Fraction(1, self.rate)
        frame.pts = self.samples
        self.samples += pcm.samples
        self._packets(self._codec.encode(frame))

    def _packets(self, packets: list[av.Packet[Any]]) -> None:
        assert self._ogg is not None
        for p in packets:
            # granule: 48 kHz samples decoded through this packet; the encoder's first packet
            # starts at -pre_skip, so the pre-skip is counted in
            end = (p.pts or 0) + (p.duration or 0)
            self._ogg.add(bytes(p), end * self._granule_per_tick + self._ogg.pre_skip)

    def finish(self) -> None:
        """Flush the encoder, write the last page and close the file (raises on failure)."""
        assert self._codec is not None and self._ogg is not None and self._file is not None
        try:
            self._packets(self._codec.encode(None))
            exact = round(self.samples * OPUS_GRANULE_RATE / self.rate)
            self._ogg.close(exact + self._ogg.pre_skip)
        finally:
            self._file.close()
            self._codec = None

    def abandon(self) -> None:
        """Close without raising and delete the unfinished file."""
        try:
            if self._file is not None:
                self._file.close()
        except OSError:
            pass
        self._file = self._ogg = self._codec = None
        self.part.unlink(missing_ok=True)


def recorded_seconds(path: Path) -> float:
    """Duration of the audio an Ogg/Opus file holds, read from its packets (no decoding)."""
    end = 0.0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        tb = stream.time_base
        for packet in container.demux(stream):
            if packet.pts is not None and tb is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * tb))
    return end


class Excerpts:
    def __init__(
        self, root: Path, outbox: Outbox, sample_rate: int, bitrate_kbps: int, keep_hours: float
    ) -> None:
        self.root = root
        self.outbox = outbox
        self.rate = sample_rate
        self.bitrate = bitrate_kbps
        self.keep = timedelta(hours=keep_hours)
        self._open: dict[str, _Minute] = {}
        self._lost = 0  # minutes lost and not yet counted in the outbox (full disk)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.keep > timedelta(0)

    def add(self, station: str, start_of_pcm: datetime, pcm: Pcm) -> None:
        """Encode a block of ``station``'s audio; ``start_of_pcm`` opens a new minute's file."""
        if not self.enabled:
            return
        with self._lock:
            minute = self._open.get(station)
            if minute is None:
                minute = self._open[station] = self._begin(station, start_of_pcm)
            if minute.failed:
                minute.samples += pcm.samples
            else:
                try:
                    minute.write(pcm)
                except (av.FFmpegError, OSError) as exc:
                    self._failed(station, minute, exc)
            full = minute.seconds >= CHUNK_SECONDS
        if full:
            self.flush(station)

    def _begin(self, station: str, start: datetime) -> _Minute:
        minute = _Minute(self.root / station / f"{start.strftime(_NAME)}.ogg", start, self.rate)
        try:
            minute.open(self.bitrate)
        except (av.FFmpegError, OSError) as exc:
            self._failed(station, minute, exc)
        return minute

    def _failed(self, station: str, minute: _Minute, exc: BaseException) -> None:
        """The rest of this minute is not kept (full disk...): said once, counted once."""
        log.error(
            "station=%s excerpt %s not written: %s; this minute's audio is not kept",
            station,
            minute.path.name,
            exc,
        )
        minute.failed = True
        minute.abandon()
        self._count_lost(1)

    def _count_lost(self, n: int) -> None:
        """Count lost minutes in the outbox; on a full disk, as soon as there is room."""
        self._lost += n
        try:
            self.outbox.count_drop("excerpts", self._lost)
        except BufferFull:
            return
        self._lost = 0

    def flush(self, station: str) -> Path | None:
        """Close ``station``'s current minute (at the end of a run, or every minute) and index it."""
        with self._lock:
            minute = self._open.pop(station, None)
            if self._lost:
                self._count_lost(0)
            if minute is None or minute.failed:
                return None
            if minute.samples == 0:
                minute.abandon()
                return None
            try:
                minute.finish()
                minute.part.replace(minute.path)
            except (av.FFmpegError, OSError) as exc:
                self._failed(station, minute, exc)
                return None
            end = minute.start + timedelta(seconds=minute.seconds)
            try:
                self._index(station, minute.start, end, minute.path)
            except BufferFull as exc:  # a file nothing indexes would never be pruned
                minute.path.unlink(missing_ok=True)
                self._failed(station, minute, exc)
                return None
            return minute.path

    def _index(self, station: str, start: datetime, end: datetime, path: Path) -> None:
        self.outbox.execute(
            "INSERT INTO excerpts (station, start, end, path, bytes) VALUES (?, ?, ?, ?, ?)",
            [station, _iso(start), _iso(end), str(path), path.stat().st_size],
        )

    def recover(self) -> int:
        """Index the minutes a crash or power cut left unfinished; return how many.

        The daemon calls it at start, before any capture: never while one writes a minute."""
        kept = 0
        for part in sorted(self.root.glob(f"*/*.ogg{PART}")):
            path = part.with_name(part.name.removesuffix(PART))
            try:
                start = datetime.strptime(path.stem, _NAME).replace(tzinfo=UTC)
                seconds = recorded_seconds(part)
            except (ValueError, av.FFmpegError, OSError, IndexError) as exc:
                log.warning("excerpt %s left by a crash is unreadable, deleted: %s", part, exc)
                part.unlink(missing_ok=True)
                continue
            if seconds <= 0:
                part.unlink(missing_ok=True)
                continue
            part.replace(path)
            try:
                self._index(part.parent.name, start, start + timedelta(seconds=seconds), path)
            except BufferFull as exc:  # a full disk must not stop the agent from starting
                path.replace(part)
                log.warning("excerpts left by a crash are indexed at the next start: %s", exc)
                break
            kept += 1
        if kept:
            log.warning("kept %d excerpt(s) a crash or power cut left unfinished", kept)
        return kept

    def kept(self, station: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, Path]]:
        """(start, end, file) of ``station``'s excerpts overlapping [start, end), oldest first."""
        rows = self.outbox.execute(
            "SELECT start, end, path FROM excerpts WHERE station = ? AND start < ? AND end > ? "
            "ORDER BY start",
            [station, _iso(end), _iso(start)],
        ).fetchall()
        return [(_parse(a), _parse(b), Path(p)) for a, b, p in rows if Path(p).exists()]

    def kept_range(self, station: str) -> tuple[datetime, datetime] | None:
        """First start and last end of what is kept for ``station``."""
        row = self.outbox.execute(
            "SELECT min(start), max(end) FROM excerpts WHERE station = ?", [station]
        ).fetchone()
        return (_parse(row[0]), _parse(row[1])) if row and row[0] else None

    def extract(self, station: str, start: datetime, end: datetime, out: Path) -> Path | None:
        """Cut [start, end) of a station into one Ogg/Opus file; None if nothing is kept.

        Each file's part of the range is decoded and cut to the sample (the index holds each
        file's exact start and length), then encoded again into ``out``. A gap between two
        files (the station was not captured) is skipped, not filled: :meth:`kept` tells where.
        Raises AudioError if a file cannot be read, OSError (or av.FFmpegError) if ``out`` cannot be
        written.
        """
        kept = self.kept(station, start, end)
        if not kept:
            return None
        cut = _Minute(out, max(start, kept[0][0]), self.rate)
        try:
            cut.open(self.bitrate)
            for a, b, path in kept:
                first = round((max(start, a) - a).total_seconds() * self.rate)
                last = round((min(end, b) - a).total_seconds() * self.rate)
                at = 0  # samples of this file decoded so far
                for block in file_pcm(path, self.rate):
                    lo, hi = max(first - at, 0), min(last - at, block.samples)
                    if hi > lo:
                        cut.write(Pcm.of(block.data[2 * lo : 2 * hi]))
                    at += block.samples
            cut.finish()
            cut.part.replace(out)
        except BaseException:
            cut.abandon()
            raise
        return out

    def prune(self, now: datetime | None = None) -> int:
        """Delete excerpts older than the retention; return how many."""
        cutoff = (now or datetime.now(UTC)) - self.keep
        return self._delete(
            "SELECT id, path FROM excerpts WHERE end < ? ORDER BY start", [_iso(cutoff)], count=False
        )

    def drop_oldest(self, n: int) -> int:
        """Disk pressure: delete the ``n`` oldest excerpts, counted as drops."""
        return self._delete("SELECT id, path FROM excerpts ORDER BY start LIMIT ?", [n], count=True)

    def _delete(self, query: str, params: list[object], count: bool) -> int:
        rows = self.outbox.execute(query, params).fetchall()
        for rid, path in rows:
            Path(path).unlink(missing_ok=True)
            self.outbox.execute("DELETE FROM excerpts WHERE id = ?", [rid])
        if count and rows:
            self.outbox.count_drop("excerpts", len(rows))
        return len(rows)

    def total_bytes(self) -> int:
        row = self.outbox.execute("SELECT coalesce(sum(bytes), 0) FROM excerpts").fetchone()
        return int(row[0])
