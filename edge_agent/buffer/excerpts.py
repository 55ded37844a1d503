"""Compressed audio of the last hours per station: proof of play, and AudD's input.

PCM is gathered per station and written as one-minute Ogg/Opus files (mono, 24 kbit/s by
default, ~180 kB a minute) by ffmpeg, indexed in the outbox database. Files older than
``excerpt_hours`` are deleted; under disk pressure the oldest go first (and are counted).
"""

from __future__ import annotations

import logging
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_agent.buffer.outbox import Outbox
from shared.pcm import Pcm

log = logging.getLogger("edge_agent.excerpts")
CHUNK_SECONDS = 60.0


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Excerpts:
    def __init__(
        self, root: Path, outbox: Outbox, sample_rate: int, bitrate_kbps: int, keep_hours: float
    ) -> None:
        self.root = root
        self.outbox = outbox
        self.rate = sample_rate
        self.bitrate = bitrate_kbps
        self.keep = timedelta(hours=keep_hours)
        self._buf: dict[str, list[bytes]] = {}
        self._start: dict[str, datetime] = {}
        self._n: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.keep > timedelta(0)

    def add(self, station: str, start_of_pcm: datetime, pcm: Pcm) -> None:
        if not self.enabled:
            return
        with self._lock:
            if station not in self._buf:
                self._buf[station], self._start[station], self._n[station] = [], start_of_pcm, 0
            self._buf[station].append(pcm.data)
            self._n[station] += pcm.samples
            full = self._n[station] >= CHUNK_SECONDS * self.rate
        if full:
            self.flush(station)

    def flush(self, station: str) -> Path | None:
        """Write what is gathered for ``station`` (at the end of a run, or every minute)."""
        with self._lock:
            parts = self._buf.pop(station, [])
            start = self._start.pop(station, None)
            self._n.pop(station, None)
        if not parts or start is None:
            return None
        pcm = b"".join(parts)
        end = start + timedelta(seconds=len(pcm) // 2 / self.rate)
        folder = self.root / station
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{start.strftime('%Y%m%dT%H%M%S.%fZ')}.ogg"
        res = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "s16le",
                "-ar",
                str(self.rate),
                "-ac",
                "1",
                "-i",
                "-",
                "-c:a",
                "libopus",
                "-b:a",
                f"{self.bitrate}k",
                "-application",
                "audio",
                str(path),
            ],
            input=pcm,
            capture_output=True,
        )
        if res.returncode != 0:
            log.error(
                "station=%s excerpt not written (%s): %s",
                station,
                path.name,
                res.stderr.decode(errors="replace")[-300:],
            )
            path.unlink(missing_ok=True)
            return None
        self.outbox.execute(
            "INSERT INTO excerpts (station, start, end, path, bytes) VALUES (?, ?, ?, ?, ?)",
            [station, _iso(start), _iso(end), str(path), path.stat().st_size],
        )
        return path

    def find(self, station: str, start: datetime, end: datetime) -> list[Path]:
        """Excerpt files of ``station`` overlapping [start, end), oldest first."""
        rows = self.outbox.execute(
            "SELECT path FROM excerpts WHERE station = ? AND start < ? AND end > ? ORDER BY start",
            [station, _iso(end), _iso(start)],
        ).fetchall()
        return [Path(r[0]) for r in rows if Path(r[0]).exists()]

    def extract(self, station: str, start: datetime, end: datetime, out: Path) -> Path | None:
        """Cut [start, end) of a station into one Ogg/Opus file; None if nothing is kept."""
        files = self.find(station, start, end)
        if not files:
            return None
        first_start = self.outbox.execute(
            "SELECT start FROM excerpts WHERE path = ?", [str(files[0])]
        ).fetchone()[0]
        offset = (start - datetime.fromisoformat(first_start.replace("Z", "+00:00"))).total_seconds()
        listing = out.with_suffix(".txt")
        listing.write_text("".join(f"file '{f}'\n" for f in files))
        res = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-ss",
                f"{max(0.0, offset):.3f}",
                "-t",
                f"{(end - start).total_seconds():.3f}",
                "-c:a",
                "libopus",
                "-b:a",
                f"{self.bitrate}k",
                str(out),
            ],
            capture_output=True,
        )
        listing.unlink(missing_ok=True)
        return out if res.returncode == 0 else None

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
