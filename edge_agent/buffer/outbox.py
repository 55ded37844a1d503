"""The outbox: every segment and event is durable here before it counts as captured.

SQLite in WAL mode with ``synchronous=FULL``: when :meth:`Outbox.add_segment` returns,
the row survives a power cut. A row leaves only through :meth:`Outbox.ack`, after the
collector answered 2xx. A batch the collector refuses for good is parked with its
reason, visible in ``sodav-agent status``; parked rows are never deleted silently.

Sequence numbers are per (station, kind) and never reused, even after deletions.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge_agent.buffer import migrations
from edge_agent.errors import BufferFull
from edge_agent.events import Event

_KIND_SEGMENT = "segment"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class OutboxBatch:
    segment_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    approx_bytes: int = 0
    oldest: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.segment_ids or self.event_ids)

    def body(self, agent: str, batch_id: str) -> dict[str, Any]:
        """The UploadV1 payload, built without re-validating what was validated on write."""
        return {
            "schema_version": 1,
            "agent": agent,
            "batch_id": batch_id,
            "sent_at": _iso(datetime.now(UTC)),
            "segments": self.segments,
            "events": self.events,
        }


@dataclass(frozen=True)
class OutboxStats:
    queue_depth: int
    queued_events: int
    oldest_queued: datetime | None
    parked: int
    parked_reasons: list[str]
    last_upload: datetime | None
    dropped_excerpts: int
    dropped_fingerprints: int
    db_bytes: int


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError | OSError) and (
        "full" in str(exc).lower() or getattr(exc, "errno", None) == 28
    )


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db = conn
        try:
            # a new file gives pages freed by acks back to the disk (see reclaim); on an older
            # file this only takes effect at its next VACUUM
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=30000")
            # a queue is written at its end and read from its start: 512 KiB of page cache
            # serve it as well as SQLite's default 2 MiB, which a small box feels
            self.db.execute("PRAGMA cache_size=-512")
            migrations.apply(self.db)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # --- writing ----------------------------------------------------------------------
    def _next_seq(self, station: str, kind: str) -> int:
        row = self.db.execute(
            "SELECT next FROM sequences WHERE station = ? AND kind = ?", [station, kind]
        ).fetchone()
        seq = int(row[0]) if row else 0
        if row:
            self.db.execute(
                "UPDATE sequences SET next = ? WHERE station = ? AND kind = ?", [seq + 1, station, kind]
            )
        else:
            self.db.execute(
                "INSERT INTO sequences (station, kind, next) VALUES (?, ?, ?)", [station, kind, seq + 1]
            )
        return seq

    def _write(self, fn: Any) -> Any:
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    result = fn()
                    self.db.execute("COMMIT")
                    return result
                except BaseException:
                    # SQLite rolls back by itself on some errors (SQLITE_FULL among them): a
                    # second ROLLBACK would fail and hide the real cause
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
            except (sqlite3.OperationalError, OSError) as exc:
                if _is_full(exc):
                    raise BufferFull(f"outbox {self.path}: disk full ({exc})") from exc
                raise

    def add_segment(
        self, station: str, start: datetime, duration: float, level_dbfs: float | None, blobs_b64: list[str]
    ) -> int:
        """Store one segment durably; return its sequence number."""

        def op() -> int:
            seq = self._next_seq(station, _KIND_SEGMENT)
            payload = json.dumps(
                {
                    "station": station,
                    "seq": seq,
                    "start": _iso(start),
                    "duration": round(duration, 6),
                    "level_dbfs": None if level_dbfs is None else round(level_dbfs, 2),
                    "fingerprints": blobs_b64,
                },
                separators=(",", ":"),
            )
            self.db.execute(
                "INSERT INTO segments (station, seq, start, payload, bytes, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [station, seq, _iso(start), payload, len(payload), _now()],
            )
            return seq

        result: int = self._write(op)
        return result

    def add_event(self, event: Event) -> int:
        """Store an event; an event with a ``key`` seen before keeps its seq (its end arrives later)."""
        station, kind, key = event.station, event.kind, event.key

        def op() -> int:
            seq: int | None = None
            if key is not None:
                row = self.db.execute(
                    "SELECT seq FROM event_keys WHERE station = ? AND key = ?", [station, key]
                ).fetchone()
                seq = int(row[0]) if row else None
            if seq is None:
                seq = self._next_seq(station, kind)
                if key is not None:
                    self.db.execute(
                        "INSERT INTO event_keys (station, key, seq) VALUES (?, ?, ?)", [station, key, seq]
                    )
            payload = {
                "station": station,
                "kind": kind,
                "seq": seq,
                "start": _iso(event.start),
                "end": _iso(event.end) if event.end else None,
                "reason": event.reason,
                "title": event.title,
                "detail": event.detail[:2000] if event.detail else None,
            }
            self.db.execute(
                "INSERT INTO events (station, kind, seq, key, payload, created_at) VALUES (?,?,?,?,?,?)",
                [station, kind, seq, key, json.dumps(payload), _now()],
            )
            return seq

        result: int = self._write(op)
        return result

    # --- reading and acknowledging ----------------------------------------------------------
    def next_batch(self, max_segments: int, max_bytes: int) -> OutboxBatch:
        batch = OutboxBatch()
        with self._lock:
            for rid, payload, created in self.db.execute(
                "SELECT id, payload, created_at FROM segments WHERE parked IS NULL ORDER BY id LIMIT ?",
                [max_segments],
            ).fetchall():
                if batch.segment_ids and batch.approx_bytes + len(payload) > max_bytes:
                    break
                batch.segment_ids.append(rid)
                batch.segments.append(json.loads(payload))
                batch.approx_bytes += len(payload)
                t = datetime.fromisoformat(created)
                batch.oldest = min(batch.oldest, t) if batch.oldest else t
            for rid, payload, created in self.db.execute(
                "SELECT id, payload, created_at FROM events WHERE parked IS NULL ORDER BY id LIMIT 500"
            ).fetchall():
                batch.event_ids.append(rid)
                batch.events.append(json.loads(payload))
                batch.approx_bytes += len(payload)
                t = datetime.fromisoformat(created)
                batch.oldest = min(batch.oldest, t) if batch.oldest else t
        # the collector keys events by seq: send only the latest copy of each in one batch
        latest: dict[tuple[str, str, int], int] = {}
        for i, ev in enumerate(batch.events):
            latest[(ev["station"], ev["kind"], ev["seq"])] = i
        batch.events = [
            ev for i, ev in enumerate(batch.events) if latest[(ev["station"], ev["kind"], ev["seq"])] == i
        ]
        return batch

    def ack(self, batch: OutboxBatch) -> None:
        """The collector answered 2xx: the rows may go."""

        def op() -> None:
            # one statement text whatever the batch size: sqlite3 keeps up to 128 prepared
            # statements per connection, and an IN list of each length would be one more
            for table, ids in (("segments", batch.segment_ids), ("events", batch.event_ids)):
                self.db.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])  # noqa: S608
            self.db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES ('last_upload', ?)", [_now()])

        self._write(op)

    def park(self, batch: OutboxBatch, reason: str) -> None:
        def op() -> None:
            for table, ids in (("segments", batch.segment_ids), ("events", batch.event_ids)):
                rows = [(reason[:500], i) for i in ids]
                self.db.executemany(f"UPDATE {table} SET parked = ? WHERE id = ?", rows)  # noqa: S608

        self._write(op)

    def unpark(self) -> int:
        """Put parked rows back in the queue (after the cause was fixed)."""

        def op() -> int:
            n = 0
            for table in ("segments", "events"):
                n += self.db.execute(f"UPDATE {table} SET parked = NULL WHERE parked IS NOT NULL").rowcount  # noqa: S608
            return n

        result: int = self._write(op)
        return result

    def execute(self, sql: str, params: list[Any] | None = None) -> Any:
        """One autocommitted statement under the outbox lock (for the excerpt index)."""
        with self._lock:
            try:
                return self.db.execute(sql, params or [])
            except sqlite3.OperationalError as exc:
                if _is_full(exc):
                    raise BufferFull(f"outbox {self.path}: disk full ({exc})") from exc
                raise

    def reclaim(self) -> int:
        """Give the pages freed by acks and drops back to the disk; return the bytes freed.

        Without this the file keeps its largest size forever, and after one long outage the
        disk budget would delete every excerpt at each check although the queue is empty.
        A file created before auto_vacuum was set is converted once by a full VACUUM.
        """
        before = self._file_bytes()
        with self._lock:
            try:
                if int(self.db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2:
                    # sqlite3's execute() steps this once (one page); sqlite3_exec runs it through
                    self.db.executescript("PRAGMA incremental_vacuum;")
                elif int(self.db.execute("PRAGMA freelist_count").fetchone()[0]) > 0:
                    self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
                    self.db.execute("VACUUM")
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.OperationalError as exc:
                if _is_full(exc):
                    raise BufferFull(f"outbox {self.path}: disk full while compacting ({exc})") from exc
                raise
        return max(0, before - self._file_bytes())

    def _file_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())

    # --- agent-wide state -----------------------------------------------------------------
    def set_state(self, key: str, value: Any) -> None:
        self._write(
            lambda: self.db.execute(
                "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", [key, json.dumps(value)]
            )
        )

    def get_state(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self.db.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except json.JSONDecodeError:
            return row[0]

    def count_drop(self, what: str, n: int) -> None:
        key = f"dropped_{what}"
        self._write(
            lambda: self.db.execute(
                "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
                [key, str(int(self.get_state(key, 0)) + n)],
            )
        )

    def drop_fingerprints_before(self, cutoff: datetime) -> int:
        """Budget policy, last resort: delete unsent segments older than ``cutoff``; count them."""
        n: int = self._write(
            lambda: self.db.execute("DELETE FROM segments WHERE start < ?", [_iso(cutoff)]).rowcount
        )
        if n:
            self.count_drop("fingerprints", n)
        return n

    def stats(self) -> OutboxStats:
        with self._lock:
            depth = self.db.execute("SELECT count(*) FROM segments WHERE parked IS NULL").fetchone()[0]
            events = self.db.execute("SELECT count(*) FROM events WHERE parked IS NULL").fetchone()[0]
            oldest = self.db.execute("SELECT min(start) FROM segments WHERE parked IS NULL").fetchone()[0]
            parked = self.db.execute(
                "SELECT (SELECT count(*) FROM segments WHERE parked IS NOT NULL) + "
                "(SELECT count(*) FROM events WHERE parked IS NOT NULL)"
            ).fetchone()[0]
            reasons = [
                r[0]
                for r in self.db.execute(
                    "SELECT DISTINCT parked FROM segments WHERE parked IS NOT NULL UNION "
                    "SELECT DISTINCT parked FROM events WHERE parked IS NOT NULL LIMIT 5"
                ).fetchall()
            ]
        last = self.get_state("last_upload")
        size = self._file_bytes()
        return OutboxStats(
            queue_depth=int(depth),
            queued_events=int(events),
            oldest_queued=datetime.fromisoformat(oldest.replace("Z", "+00:00")) if oldest else None,
            parked=int(parked),
            parked_reasons=reasons,
            last_upload=datetime.fromisoformat(last) if isinstance(last, str) else None,
            dropped_excerpts=int(self.get_state("dropped_excerpts", 0)),
            dropped_fingerprints=int(self.get_state("dropped_fingerprints", 0)),
            db_bytes=size,
        )
