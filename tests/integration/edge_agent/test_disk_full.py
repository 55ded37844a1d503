"""A full disk and the disk budget: the documented policy, on real files and a real tiny filesystem.

Policy (``[buffer]`` in agent.example.toml): over ``disk_budget_mb`` the oldest excerpts go
first; unsent fingerprints are kept at least ``keep_fingerprints_days``; every drop is counted
(``sodav-agent status``, heartbeat) and logged. A genuine ENOSPC gives a clear error, keeps
the waiting segments in memory and never corrupts the outbox.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from edge_agent import heartbeat
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from edge_agent.config import AgentSettings
from edge_agent.errors import BufferFull
from edge_agent.pipeline import Pipeline
from edge_agent.service import Service
from shared.pcm import as_pcm
from tests.fixtures.streams import free_port
from tests.support.agentproc import AgentProcess, agent_status, file_agent_config, wait_for
from tests.support.audio import excerpt, pcm11k, track
from tests.support.payloads import segment

RATES = (-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs we own: writes past it fail with ENOSPC, like a full SD card."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {res.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path, leave: int = 0) -> Path:
    """Take all free space of ``path``'s filesystem but ``leave`` bytes."""
    filler = path / "filler.bin"
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize - leave
    with filler.open("wb") as fh:
        try:
            fh.write(b"\0" * max(0, free))
        except OSError:
            pass
    return filler


def _seqs(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [int(r[0]) for r in conn.execute("SELECT seq FROM segments ORDER BY seq")]


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _settings(data_dir: Path, audio: Path | None = None, **buffer: float) -> AgentSettings:
    return AgentSettings.model_validate(
        {
            "data_dir": str(data_dir),
            "fingerprint": {"segment_seconds": 2},
            "buffer": {"excerpt_hours": 48, **buffer},
            "stations": [
                {"slug": "rfm", "path": str(audio or data_dir / "none.mp3"), "rate_variants_ppm": [0]}
            ],
        }
    )


def test_enospc_is_a_clear_error_and_the_outbox_stays_intact(tiny_fs: Path) -> None:
    db = tiny_fs / "outbox.sqlite"
    reserve = tiny_fs / "reserve.bin"  # what the technician will free later
    reserve.write_bytes(b"\0" * 300_000)
    ob = Outbox(db)
    blobs = segment("rfm", 0, rates=RATES)["fingerprints"]
    t = datetime(2026, 3, 1, tzinfo=UTC)
    confirmed: list[int] = []
    with pytest.raises(BufferFull) as info:
        for i in range(10_000):
            confirmed.append(ob.add_segment("rfm", t + timedelta(seconds=10 * i), 10.0, -14.0, blobs))
    assert "disk full" in str(info.value) and str(db) in str(info.value)
    assert len(confirmed) > 20
    # the outbox keeps working for readers while the disk is full, and nothing confirmed is lost
    assert _seqs(db) == confirmed
    assert ob.stats().queue_depth == len(confirmed)
    # even an ack needs room in the journal: refused just as clearly, and nothing changes
    batch = ob.next_batch(50, 10_000_000)
    with pytest.raises(BufferFull):
        ob.ack(batch)
    assert _seqs(db) == confirmed
    ob.close()
    assert _integrity(db) == "ok"
    # space returns: the same file takes the ack and new segments, seqs go on without reuse
    reserve.unlink()
    ob = Outbox(db)
    ob.ack(batch)
    nxt = ob.add_segment("rfm", t + timedelta(days=1), 10.0, -14.0, blobs)
    assert nxt == confirmed[-1] + 1
    assert _seqs(db) == [*confirmed[50:], nxt]
    ob.close()
    assert _integrity(db) == "ok"


def _music_pipeline(
    data_dir: Path, tmp_path: Path, with_excerpts: bool
) -> tuple[np.ndarray, AgentSettings, Outbox, Excerpts | None, Pipeline]:
    """24 s of real music at 11025 Hz, and a pipeline writing to ``data_dir`` (2 s segments)."""
    pcm = pcm11k(excerpt(track(2), tmp_path / "a.wav", 30, 24, codec="wav"))
    settings = _settings(data_dir)
    ob = Outbox(settings.outbox_path)
    excerpts = Excerpts(data_dir / "excerpts", ob, 11025, 24, 48) if with_excerpts else None
    return pcm, settings, ob, excerpts, Pipeline(settings, ob, excerpts)


def test_a_full_disk_keeps_segments_in_memory_and_writes_them_when_space_returns(
    tiny_fs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pcm, settings, ob, excerpts, pipe = _music_pipeline(tiny_fs, tmp_path, with_excerpts=True)
    assert excerpts is not None
    start = datetime.now(UTC)
    pipe.run_started("rfm", 1, start)
    half = pcm.size // 2
    for chunk in np.array_split(pcm[:half], 12):
        pipe.audio("rfm", 1, as_pcm(chunk))
    written_before = pipe.segments_written
    assert written_before >= 4
    first_excerpt = excerpts.flush("rfm")  # the minute's excerpt, as every 60 s
    assert first_excerpt is not None
    filler = _fill(tiny_fs)
    with caplog.at_level(logging.ERROR):
        for chunk in np.array_split(pcm[half:], 12):
            pipe.audio("rfm", 1, as_pcm(chunk))
        excerpts.flush("rfm")  # written in the room the dropped excerpt left, or logged: never raised
    lost = [r for r in caplog.records if r.name == "edge_agent.excerpts" and "not written" in r.getMessage()]
    assert pipe.pending, "the disk was full: segments must wait in memory"
    assert any("DISK FULL" in r.getMessage() and "station=rfm" in r.getMessage() for r in caplog.records)
    # audio goes before fingerprints: the oldest excerpt was deleted to make room, and counted;
    # a minute that could not be written is said once and counted too
    assert len(lost) <= 1 and all("station=rfm" in r.getMessage() for r in lost)
    assert not first_excerpt.exists() and ob.stats().dropped_excerpts == 1 + len(lost)
    filler.unlink()
    pipe.run_ended("rfm", 1)
    assert pipe.pending == []
    seqs = _seqs(settings.outbox_path)
    assert seqs == list(range(len(seqs))) and len(seqs) == pipe.segments_written
    # no audio lost or invented: the segments cover the whole run, back to back
    with sqlite3.connect(settings.outbox_path) as conn:
        rows = conn.execute("SELECT payload FROM segments ORDER BY seq").fetchall()
    starts = [json.loads(p)["start"] for (p,) in rows]
    times = [datetime.fromisoformat(x.replace("Z", "+00:00")) for x in starts]
    assert times[0] == start and all(b - a == timedelta(seconds=2) for a, b in itertools.pairwise(times))
    assert len(times) >= pcm.size // (11025 * 2) - 1  # the last partial segment may be short of values
    ob.close()
    assert _integrity(settings.outbox_path) == "ok"


def test_segments_dropped_from_memory_on_a_long_full_disk_are_counted(
    tiny_fs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pcm, settings, ob, _, pipe = _music_pipeline(tiny_fs, tmp_path, with_excerpts=False)
    pipe.MEMORY_QUEUE_MAX = 2  # a day of segments in production; the rule is the same
    pipe.run_started("rfm", 1, datetime.now(UTC))
    filler = _fill(tiny_fs)
    with caplog.at_level(logging.ERROR):
        for chunk in np.array_split(pcm, 24):
            pipe.audio("rfm", 1, as_pcm(chunk))
    dropped = pipe.memory_drops
    assert dropped >= 5 and len(pipe.pending) == 2  # 12 segments of 2 s, 2 kept in memory
    assert any("oldest waiting segment is dropped" in r.getMessage() for r in caplog.records)
    # what the collector hears meanwhile (the heartbeat), though nothing can be written
    assert heartbeat.build("box", ob, [], pipe.memory_drops).dropped_fingerprints == dropped
    assert ob.stats().dropped_fingerprints == 0
    filler.unlink()
    with caplog.at_level(logging.ERROR):
        assert pipe.flush_pending() == 0
    # once there is room: written in the outbox's count, which `sodav-agent status` shows
    assert ob.stats().dropped_fingerprints == dropped and pipe.memory_drops == 0
    assert any(f"{dropped} segment(s) were dropped from memory" in r.getMessage() for r in caplog.records)
    assert heartbeat.build("box", ob, [], pipe.memory_drops).dropped_fingerprints == dropped
    ob.close()
    assert _integrity(settings.outbox_path) == "ok"


def _excerpt_files(service: Service) -> list[str]:
    return [r[0] for r in service.outbox.execute("SELECT start FROM excerpts ORDER BY start").fetchall()]


def _populated_service(tmp_path: Path, **buffer: float) -> tuple[Service, datetime]:
    """A service on ``tmp_path/data`` holding eight excerpts over the last hours, and old and
    young unsent segments."""
    audio = excerpt(track(2), tmp_path / "a.wav", 0, 10, codec="wav")
    pcm = pcm11k(audio)
    now = datetime.now(UTC)
    service = Service(_settings(tmp_path / "data", audio, **buffer))
    assert service.excerpts is not None
    for h in range(8, 0, -1):
        at = now - timedelta(hours=h)
        service.excerpts.add("rfm", at, as_pcm(pcm[: 11025 * 10]))
        service.excerpts.flush("rfm")
    blobs = segment("rfm", 0, rates=RATES)["fingerprints"]
    for i in range(30):  # 40 days old: past keep_fingerprints_days
        service.outbox.add_segment("rfm", now - timedelta(days=40, seconds=-10 * i), 10.0, -14.0, blobs)
    for i in range(30):  # 2 days old: must be kept whatever the budget
        service.outbox.add_segment("rfm", now - timedelta(days=2, seconds=-10 * i), 10.0, -14.0, blobs)
    return service, now


@pytest.mark.slow
def test_budget_drops_oldest_excerpts_first_and_counts_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service, _now = _populated_service(tmp_path)
    starts = _excerpt_files(service)
    assert len(starts) == 8
    service.outbox.reclaim()
    used = service.budget.used()
    sizes = [int(r[0]) for r in service.outbox.execute("SELECT bytes FROM excerpts ORDER BY start")]
    # room for everything but the three oldest excerpts
    budget = used - sum(sizes[:3]) + 1
    service.settings.buffer.disk_budget_mb = budget / 1024 / 1024
    with caplog.at_level(logging.WARNING, logger="edge_agent.disk"):
        service.budget.enforce()
    left = _excerpt_files(service)
    assert left == starts[len(starts) - len(left) :], "the oldest excerpts go first"
    assert 3 <= len(starts) - len(left) < 8
    st = service.outbox.stats()
    assert st.dropped_excerpts == len(starts) - len(left)
    assert st.dropped_fingerprints == 0 and st.queue_depth == 60  # fingerprints untouched
    assert service.budget.used() <= budget
    assert any("oldest excerpt(s) deleted" in r.getMessage() for r in caplog.records)
    # a second pass under budget deletes nothing more
    service.budget.enforce()
    assert service.outbox.stats().dropped_excerpts == st.dropped_excerpts
    service.shutdown()


@pytest.mark.slow
def test_budget_keeps_young_fingerprints_and_drops_old_ones_last(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service, now = _populated_service(tmp_path, disk_budget_mb=0.01, keep_fingerprints_days=30)
    data = tmp_path / "data"
    with caplog.at_level(logging.WARNING, logger="edge_agent.disk"):
        service.budget.enforce()
    st = service.outbox.stats()
    assert _excerpt_files(service) == [] and st.dropped_excerpts == 8
    assert st.dropped_fingerprints == 30 and st.queue_depth == 30
    assert st.oldest_queued is not None and now - st.oldest_queued < timedelta(days=3)
    messages = [r.getMessage() for r in caplog.records]
    assert any("8 oldest excerpt(s) deleted" in m for m in messages)
    assert any("30 unsent segment(s) older than 30 days dropped" in m for m in messages)
    # still over budget with young fingerprints only: kept, and the log says why
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="edge_agent.disk"):
        service.budget.enforce()
    assert service.outbox.stats().queue_depth == 30
    assert any("kept (policy)" in r.getMessage() for r in caplog.records)
    service.shutdown()

    # the technician sees the drops
    out = agent_status(data, tmp_path)
    assert "dropped    8 excerpt(s), 30 fingerprint segment(s) (disk budget)" in out
    js = json.loads(agent_status(data, tmp_path, "--json"))
    assert (js["dropped_excerpts"], js["dropped_fingerprints"], js["queue_depth"]) == (8, 30, 30)


def test_uploaded_space_is_given_back_so_excerpts_are_not_dropped_for_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """After a long outage the outbox file grew; once everything is uploaded that space is
    free again and must not count against the budget (or every excerpt would go, every time)."""
    audio = excerpt(track(2), tmp_path / "a.wav", 0, 10, codec="wav")
    pcm = pcm11k(audio)
    data = tmp_path / "data"
    now = datetime.now(UTC)
    service = Service(_settings(data, audio))
    assert service.excerpts is not None
    for h in range(4, 0, -1):
        service.excerpts.add("rfm", now - timedelta(hours=h), as_pcm(pcm[: 11025 * 10]))
        service.excerpts.flush("rfm")
    blobs = segment("rfm", 0, rates=RATES)["fingerprints"]
    for i in range(400):  # a long outage: ~2 MB queued
        service.outbox.add_segment("rfm", now - timedelta(hours=1, seconds=-10 * i), 10.0, -14.0, blobs)
    while batch := service.outbox.next_batch(100, 10_000_000):  # the link is back: all uploaded
        service.outbox.ack(batch)
    excerpts_bytes = service.excerpts.total_bytes()
    service.settings.buffer.disk_budget_mb = (excerpts_bytes + 1_000_000) / 1024 / 1024
    grown = service.outbox.stats().db_bytes
    with caplog.at_level(logging.INFO, logger="edge_agent.disk"):
        service.budget.enforce()
    assert service.outbox.stats().dropped_excerpts == 0
    assert len(_excerpt_files(service)) == 4
    assert service.outbox.stats().db_bytes < grown / 4  # the disk really got the space back
    assert any("freed by compacting the outbox" in r.getMessage() for r in caplog.records)
    service.shutdown()


@pytest.mark.slow
def test_every_agent_thread_survives_a_full_disk(
    tiny_fs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Heartbeat, housekeeping (budget, watchdog), uploader and capture go on while the disk is
    full: the budget policy is what frees space, it must not die of the very problem."""
    audio = excerpt(track(2), tmp_path / "a.mp3", 0, 30)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # housekeeping every 0.5 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    settings = AgentSettings.model_validate(
        {
            "name": "box1",
            "data_dir": str(tiny_fs),
            "collector": {
                "url": f"http://127.0.0.1:{free_port()}",  # nobody there: uploads keep failing
                "token": "test-token",
                "heartbeat_interval_s": 0.3,
                "retry_max_backoff_s": 0.5,
                "batch_max_age_s": 0.3,
            },
            "fingerprint": {"segment_seconds": 2},
            "buffer": {"excerpt_hours": 0},
            "stations": [{"slug": "rfm", "path": str(audio), "rate_variants_ppm": [0]}],
        }
    )
    service = Service(settings)
    with caplog.at_level(logging.WARNING):
        service.start()
        try:
            wait = time.monotonic() + 20
            while service.pipeline.segments_written < 1 and time.monotonic() < wait:
                time.sleep(0.1)
            filler = _fill(tiny_fs)
            while not service.pipeline.pending and time.monotonic() < wait + 10:
                time.sleep(0.1)
            assert service.pipeline.pending, "the capture went on while the disk was full"
            time.sleep(2.0)  # several housekeeping and heartbeat rounds on the full disk
            alive = {t.name for t in service.threads if t.is_alive()}
            assert alive == {"capture-rfm", "uploader", "heartbeat", "housekeeping", "excerpt-requests"}
            filler.unlink()
            while service.pipeline.pending and time.monotonic() < wait + 20:
                time.sleep(0.1)
            assert service.pipeline.pending == []
        finally:
            service.stop.set()
            service.shutdown()
    messages = [r.getMessage() for r in caplog.records]
    # said once, not for every audio chunk; and the recovery is said too
    assert sum("DISK FULL" in m for m in messages) == 1, [m for m in messages if "DISK FULL" in m]
    assert any("disk space is back" in m for m in messages)
    assert any(m.startswith("housekeeping: ") and "disk full" in m for m in messages)
    assert _integrity(settings.outbox_path) == "ok"
    seqs = _seqs(settings.outbox_path)
    assert seqs == list(range(len(seqs))) and len(seqs) == service.pipeline.segments_written


def test_an_excerpt_a_crash_left_on_a_full_disk_waits_for_room(tiny_fs: Path, tmp_path: Path) -> None:
    """Indexing what a power cut left must not stop the start when the disk fills meanwhile
    (``sodav-agent run`` waits for 1 MB before it starts; the outbox may need more)."""
    pcm = pcm11k(excerpt(track(2), tmp_path / "a.wav", 30, 6, codec="wav"))
    ob = Outbox(tiny_fs / "outbox.sqlite")
    before = Excerpts(tiny_fs / "excerpts", ob, 11025, 24, 48)
    at = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    for i in range(0, pcm.size, 2756):
        before.add("rfm", at, as_pcm(pcm[i : i + 2756]))
    # the power goes: nothing is flushed, the file stays .ogg.part (its descriptor just closes)
    (part,) = (tiny_fs / "excerpts" / "rfm").glob("*.ogg.part")
    file = before._open.pop("rfm")._file
    assert file is not None
    file.close()
    filler = _fill(tiny_fs)
    after = Excerpts(tiny_fs / "excerpts", ob, 11025, 24, 48)
    assert after.recover() == 0 and part.exists() and after.total_bytes() == 0
    filler.unlink()
    again = Excerpts(tiny_fs / "excerpts", ob, 11025, 24, 48)
    assert again.recover() == 1
    (row,) = ob.execute("SELECT start, end FROM excerpts").fetchall()
    assert not part.exists() and part.with_suffix("").exists()
    assert row[0] == "2026-03-02T20:00:00.000000Z" and row[1] >= "2026-03-02T20:00:04"
    ob.close()


@pytest.mark.timeout(180)
def test_the_agent_started_on_a_full_disk_waits_for_room_then_runs(tiny_fs: Path, tmp_path: Path) -> None:
    """Exiting would hand the problem to systemd's restart loop, which gives up after ten tries
    and leaves the unit failed when the technician frees the space."""
    audio = excerpt(track(2), tmp_path / "a.mp3", 0, 20)
    work = tmp_path / "work"  # the config and the agent's log here, its data_dir on the full disk
    work.mkdir()
    (work / "data").symlink_to(tiny_fs)
    config = file_agent_config(work, audio, excerpt_hours=1, segment_seconds=2)
    filler = _fill(tiny_fs)
    agent = AgentProcess(config).start()
    assert agent.proc is not None
    try:
        wait_for(lambda: "DISK FULL at start" in agent.log(), 60, "the agent to say DISK FULL at start")
        (said,) = [line for line in agent.log().splitlines() if "DISK FULL at start" in line]
        assert str(work / "data") in said and "waiting for space" in said
        time.sleep(3)
        assert agent.proc.poll() is None, "the agent exited instead of waiting"
        assert not agent.db.exists()
        filler.unlink()  # the technician frees space
        wait_for(lambda: "disk space is back" in agent.log(), 30, "the agent to see the space back")
        assert agent.proc.wait(90) == 0  # the file station is replayed to its end
    finally:
        agent.close()
    with sqlite3.connect(agent.db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM segments").fetchone()
    assert n >= 9  # 20 s of audio in 2 s segments
