"""The SQLite outbox on real files: migrations, add/next_batch/ack, seqs, park, kv, drops."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.buffer import migrations
from edge_agent.buffer.outbox import Outbox
from edge_agent.events import Event
from tests.support.payloads import segment

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _blobs(i: int = 0) -> list[str]:
    blobs: list[str] = segment("rfm", i)["fingerprints"]
    return blobs


def _add(ob: Outbox, station: str = "rfm", n: int = 1, start: datetime = T0) -> list[int]:
    return [
        ob.add_segment(station, start + timedelta(seconds=10 * i), 10.0, -14.0, _blobs(i)) for i in range(n)
    ]


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_migrations_on_a_fresh_file_then_nothing_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    assert migrations.apply(db) == [name for name, _ in migrations.MIGRATIONS]
    assert migrations.apply(db) == []
    db.close()
    ob = Outbox(path)
    assert {"segments", "events", "sequences", "kv", "excerpts", "_migrations"} <= set(_tables(ob.db))
    assert ob.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ob.close()


def test_a_new_migration_applies_to_an_existing_file_and_keeps_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "outbox.sqlite"
    ob = Outbox(path)
    seqs = _add(ob, n=3)
    ob.close()

    def _m002(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE segments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")

    shipped = [name for name, _ in migrations.MIGRATIONS]
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("999_attempts", _m002)])
    ob = Outbox(path)
    rows = list(ob.db.execute("SELECT seq, attempts FROM segments ORDER BY seq").fetchall())
    assert rows == [(s, 0) for s in seqs]
    names = [r[0] for r in ob.db.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]
    assert names == [*shipped, "999_attempts"]
    ob.close()


def test_a_failing_migration_leaves_no_half_applied_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "outbox.sqlite"
    Outbox(path).close()

    def _m002_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE uploads_log (id INTEGER PRIMARY KEY)")
        db.execute("CREATE INDEX broken ON no_such_table (x)")

    shipped = list(migrations.MIGRATIONS)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*shipped, ("999_broken", _m002_broken)])
    with pytest.raises(sqlite3.OperationalError):
        Outbox(path)
    db = sqlite3.connect(path, isolation_level=None)
    assert "uploads_log" not in _tables(db)  # the step was rolled back as a whole
    done = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]
    assert done == [name for name, _ in shipped]
    db.close()

    def _m002_fixed(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE uploads_log (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*shipped, ("999_broken", _m002_fixed)])
    ob = Outbox(path)  # the corrected step runs cleanly on the same file
    assert "uploads_log" in _tables(ob.db)
    ob.close()


def test_ack_removes_only_the_acknowledged_rows(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "outbox.sqlite")
    _add(ob, n=5)
    ob.add_event(Event("rfm", "outage", T0, None, reason="disconnected", key="outage-1"))
    batch = ob.next_batch(max_segments=3, max_bytes=10_000_000)
    assert [s["seq"] for s in batch.segments] == [0, 1, 2]
    assert [e["kind"] for e in batch.events] == ["outage"]
    # written while the batch was in flight: must survive the ack
    late_seq = _add(ob, n=1, start=T0 + timedelta(minutes=5))[0]
    ob.add_event(
        Event("rfm", "outage", T0, T0 + timedelta(seconds=30), reason="disconnected", key="outage-1")
    )
    ob.ack(batch)
    left = [r[0] for r in ob.db.execute("SELECT seq FROM segments ORDER BY seq").fetchall()]
    assert left == [3, 4, late_seq]
    nxt = ob.next_batch(100, 10_000_000)
    assert [s["seq"] for s in nxt.segments] == [3, 4, late_seq]
    # the outage's closing copy keeps the outage's seq
    assert [(e["seq"], e["end"] is not None) for e in nxt.events] == [(0, True)]
    st = ob.stats()
    assert st.queue_depth == 3 and st.queued_events == 1
    assert st.last_upload is not None
    ob.close()


def test_next_batch_respects_count_and_bytes(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "outbox.sqlite")
    _add(ob, n=6)
    one = len(ob.db.execute("SELECT payload FROM segments LIMIT 1").fetchone()[0])
    batch = ob.next_batch(max_segments=100, max_bytes=int(one * 2.5))
    assert len(batch.segment_ids) == 2
    assert batch.approx_bytes <= one * 2.5
    # one segment bigger than the byte limit still goes alone (never stuck)
    assert len(ob.next_batch(max_segments=100, max_bytes=10).segment_ids) == 1
    ob.close()


def test_seqs_per_station_and_kind_are_never_reused_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    ob = Outbox(path)
    assert _add(ob, "rfm", 3) == [0, 1, 2]
    assert _add(ob, "zik", 2) == [0, 1]
    assert ob.add_event(Event("rfm", "silence", T0, None)) == 0
    assert ob.add_event(Event("rfm", "metadata", T0, None, title="A")) == 0
    ob.ack(ob.next_batch(100, 10_000_000))  # everything acked: tables empty
    assert ob.db.execute("SELECT count(*) FROM segments").fetchone()[0] == 0
    ob.close()

    ob = Outbox(path)
    assert _add(ob, "rfm", 2) == [3, 4]
    assert _add(ob, "zik", 1) == [2]
    assert ob.add_event(Event("rfm", "silence", T0, None)) == 1
    assert ob.add_event(Event("rfm", "metadata", T0, None, title="B")) == 1
    ob.close()
    assert _integrity(path) == "ok"


def test_park_and_unpark_with_the_reason_in_stats(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "outbox.sqlite")
    _add(ob, n=4)
    batch = ob.next_batch(2, 10_000_000)
    reason = "collector refused the token (401): REVOKED_TOKEN (6): token revoked"
    ob.park(batch, reason)
    st = ob.stats()
    assert st.parked == 2 and st.parked_reasons == [reason]
    assert st.queue_depth == 2
    # parked rows are not sent again until unparked, and are never deleted by it
    assert [s["seq"] for s in ob.next_batch(100, 10_000_000).segments] == [2, 3]
    assert ob.unpark() == 2
    st = ob.stats()
    assert st.parked == 0 and st.parked_reasons == [] and st.queue_depth == 4
    ob.close()


def test_kv_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    ob = Outbox(path)
    assert ob.get_state("variants:rfm", [0]) == [0]
    ob.set_state("variants:rfm", [-20000, 0, 20000])
    ob.set_state("last_heartbeat", {"queue_depth": 3})
    ob.close()
    ob = Outbox(path)
    assert ob.get_state("variants:rfm") == [-20000, 0, 20000]
    assert ob.get_state("last_heartbeat") == {"queue_depth": 3}
    ob.close()


def test_drop_fingerprints_before_counts_every_drop(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    ob = Outbox(path)
    now = datetime.now(UTC)
    old = _add(ob, n=3, start=now - timedelta(days=40))
    young = _add(ob, n=2, start=now - timedelta(days=2))
    assert ob.drop_fingerprints_before(now - timedelta(days=30)) == 3
    assert ob.drop_fingerprints_before(now - timedelta(days=30)) == 0
    left = [r[0] for r in ob.db.execute("SELECT seq FROM segments ORDER BY seq").fetchall()]
    assert left == young and not set(old) & set(left)
    ob.count_drop("excerpts", 4)
    ob.close()
    ob = Outbox(path)
    st = ob.stats()
    assert (st.dropped_fingerprints, st.dropped_excerpts) == (3, 4)
    ob.close()


def test_integrity_and_content_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    ob = Outbox(path)
    _add(ob, n=20)
    ob.ack(ob.next_batch(7, 10_000_000))
    ob.close()
    assert _integrity(path) == "ok"
    ob = Outbox(path)
    batch = ob.next_batch(100, 10_000_000)
    assert [s["seq"] for s in batch.segments] == list(range(7, 20))
    first = batch.segments[0]
    assert first["station"] == "rfm" and first["start"] == "2026-03-01T08:01:10Z"
    assert first["fingerprints"] == _blobs(7)
    ob.close()


def test_reclaim_gives_acked_space_back_to_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    ob = Outbox(path)
    _add(ob, n=300)
    while batch := ob.next_batch(100, 10_000_000):
        ob.ack(batch)
    grown = ob.stats().db_bytes
    assert ob.reclaim() > 0
    assert ob.stats().db_bytes < grown / 4
    assert _add(ob, n=1) == [300]  # and the outbox goes on
    ob.close()
    assert _integrity(path) == "ok"


def test_reclaim_converts_a_file_made_before_auto_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as conn:  # an outbox from before: auto_vacuum off
        conn.execute("CREATE TABLE early (x)")
    conn.close()
    ob = Outbox(path)
    assert ob.db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    _add(ob, n=100)
    ob.ack(ob.next_batch(100, 10_000_000))
    assert ob.reclaim() > 0
    assert ob.db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    ob.close()
    assert _integrity(path) == "ok"


def test_excerpt_times_written_before_002_get_one_width(tmp_path: Path) -> None:
    """Excerpt times are compared as text: '…:02:00Z' sorted after '…:02:00.162903Z'."""
    path = tmp_path / "outbox.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    first, step = migrations.MIGRATIONS[0]
    step(db)  # a file from before 002, with times in both forms
    db.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", [first])
    rows = [
        ("rfm", "2026-01-01T00:01:00.081270Z", "2026-01-01T00:02:00Z", "/x/1.ogg", 1),
        ("rfm", "2026-01-01T00:02:00Z", "2026-01-01T00:02:30.500000Z", "/x/2.ogg", 1),
    ]
    for row in rows:
        db.execute("INSERT INTO excerpts (station, start, end, path, bytes) VALUES (?, ?, ?, ?, ?)", row)
    db.close()
    ob = Outbox(path)
    got = ob.db.execute('SELECT start, "end" FROM excerpts ORDER BY id').fetchall()
    assert got == [
        ("2026-01-01T00:01:00.081270Z", "2026-01-01T00:02:00.000000Z"),
        ("2026-01-01T00:02:00.000000Z", "2026-01-01T00:02:30.500000Z"),
    ]
    # and text order is time order again
    later = ob.db.execute('SELECT count(*) FROM excerpts WHERE "end" > ?', ["2026-01-01T00:02:00.000000Z"])
    (n,) = later.fetchone()
    assert n == 1
    ob.close()
