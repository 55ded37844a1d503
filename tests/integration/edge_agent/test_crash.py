"""``kill -9`` at random points: nothing the outbox confirmed is lost, nothing acked comes back.

A writer subprocess runs the real outbox code and prints each seq right after its durable
add, the seqs of a batch before it acks it, and again after the ack returned. The test
SIGKILLs it at random moments, reopens the SQLite file and checks what a technician would
after a power cut: the file is intact, every confirmed segment/event is there (unless it was
being acked), acked rows never come back, and seqs keep increasing without reuse.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.agentproc import file_agent_config
from tests.support.audio import excerpt, track
from tests.support.payloads import segment

pytestmark = pytest.mark.slow

ROUNDS = 24

WRITER = """
import json, random, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from edge_agent.buffer.outbox import Outbox
from edge_agent.events import Event

path, seed, blobs_file = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
blobs = json.loads(Path(blobs_file).read_text())
rng = random.Random(seed)
out = sys.stdout
ob = Outbox(path)
print(json.dumps({"open": True}), flush=True)
t = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=seed)
while True:
    t += timedelta(seconds=10)
    station = rng.choice(["rfm", "zik"])
    seq = ob.add_segment(station, t, 10.0, -14.0, blobs)
    print(json.dumps({"add": [station, seq]}), flush=True)
    if rng.random() < 0.3:
        ev = ob.add_event(Event(station, "metadata", t, None, title=f"title {seq}"))
        print(json.dumps({"event": [station, ev]}), flush=True)
    if rng.random() < 0.25:
        batch = ob.next_batch(rng.randint(1, 6), 10_000_000)
        segs = [[s["station"], s["seq"]] for s in batch.segments]
        evs = [[e["station"], e["seq"]] for e in batch.events]
        print(json.dumps({"acking": segs, "acking_events": evs}), flush=True)
        ob.ack(batch)
        print(json.dumps({"acked": segs, "acked_events": evs}), flush=True)
"""


def _rows(path: Path) -> tuple[set[tuple[str, int]], set[tuple[str, int]], dict[str, int], str]:
    with sqlite3.connect(path) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "segments" not in tables:
            # killed before the first migration committed: an empty file, nothing confirmed yet
            return set(), set(), {}, str(integrity)
        segs = {(s, int(q)) for s, q in conn.execute("SELECT station, seq FROM segments")}
        evs = {(s, int(q)) for s, q in conn.execute("SELECT station, seq FROM events")}
        nxt = {s: int(n) for s, n in conn.execute("SELECT station, next FROM sequences WHERE kind='segment'")}
    return segs, evs, nxt, str(integrity)


def _wait_open(log: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while b'"open"' not in log.read_bytes() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.timeout(600)
def test_kill_9_at_random_points_loses_nothing_confirmed(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite"
    blobs_file = tmp_path / "blobs.json"
    blobs_file.write_text(json.dumps(segment("rfm", 0)["fingerprints"]))
    rng = random.Random(int(os.environ.get("SODAV_CRASH_SEED", "20260301")))
    confirmed: set[tuple[str, int]] = set()
    confirmed_events: set[tuple[str, int]] = set()
    acking: set[tuple[str, int]] = set()
    acking_events: set[tuple[str, int]] = set()
    acked: set[tuple[str, int]] = set()
    last_seq: dict[str, int] = {}
    killed_while_writing = 0
    for r in range(ROUNDS):
        log = tmp_path / f"writer-{r}.jsonl"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(db), str(r), str(blobs_file)],
                stdout=out,
                stderr=subprocess.PIPE,
            )
            # sometimes during start-up and migrations, mostly while adding and acking
            if r % 4 == 0:
                time.sleep(rng.uniform(0.05, 1.0))
            else:
                _wait_open(log, proc)
                time.sleep(rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
        for line in lines:
            if "add" in line:
                station, seq = line["add"]
                # seqs printed by any run, in order, strictly increase: never reused
                assert seq > last_seq.get(station, -1), (r, station, seq, last_seq)
                last_seq[station] = seq
                confirmed.add((station, seq))
            elif "event" in line:
                confirmed_events.add(tuple(line["event"]))  # type: ignore[arg-type]
            elif "acking" in line:
                acking |= {tuple(x) for x in line["acking"]}  # type: ignore[misc]
                acking_events |= {tuple(x) for x in line["acking_events"]}  # type: ignore[misc]
            elif "acked" in line:
                acked |= {tuple(x) for x in line["acked"]}  # type: ignore[misc]
        killed_while_writing += any("add" in x for x in lines)

        segs, evs, nxt, integrity = _rows(db) if db.exists() else (set(), set(), {}, "ok")
        assert integrity == "ok", f"round {r}: {integrity}"
        lost = confirmed - segs - acking
        assert not lost, f"round {r}: confirmed segments lost: {sorted(lost)[:10]}"
        assert not (acked & segs), f"round {r}: acked segments came back: {sorted(acked & segs)[:10]}"
        lost_events = confirmed_events - evs - acking_events
        assert not lost_events, f"round {r}: confirmed events lost: {sorted(lost_events)[:10]}"
        for station, seq in last_seq.items():
            assert nxt[station] > seq  # the next run starts after every seq handed out

    assert killed_while_writing >= ROUNDS // 2, killed_while_writing  # the kills really landed mid-work
    assert len(confirmed) > 100 and acked


@pytest.mark.timeout(600)
def test_kill_9_of_the_running_agent_keeps_the_outbox_intact(tmp_path: Path) -> None:
    """The real daemon on a file source in fast mode, killed at random moments."""
    audio = excerpt(track(1), tmp_path / "a.mp3", 0, 120)
    config = file_agent_config(tmp_path, audio, segment_seconds=2)
    db = tmp_path / "data" / "outbox.sqlite"
    rng = random.Random(7)
    seen: set[int] = set()
    before = 0
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent.cli", "--config", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90  # start-up takes a while on a loaded box
        while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.exists(), "the agent did not create its outbox within 90 s"
        time.sleep(rng.uniform(0.2, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        segs, _evs, nxt, integrity = _rows(db)
        assert integrity == "ok"
        seqs = {q for _s, q in segs}
        assert seen <= seqs  # nothing written before is lost (nothing is acked: no collector)
        # every run replays the file from its start but gets new seqs after the old ones
        assert nxt.get("rfm", 0) >= before and seqs == set(range(nxt.get("rfm", 0)))
        seen, before = seqs, nxt.get("rfm", 0)
    assert before > 0
