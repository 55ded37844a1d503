"""Proof-of-play excerpts: one playable Ogg/Opus file per station-minute, written as the audio
arrives, indexed in the outbox, and kept when the agent is killed in the middle of a minute."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np

from collector.fpmath import aligned_ber
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from shared.chroma import fingerprint_pcm
from shared.pcm import as_pcm
from tests.support.agentproc import cli, file_agent_config
from tests.support.audio import excerpt, pcm11k, track

RATE = 11025
T0 = datetime(2026, 3, 2, 20, 15, 0, 250000, tzinfo=UTC)


def _rows(ob: Outbox) -> list[tuple[str, datetime, datetime, Path, int]]:
    rows = ob.execute("SELECT station, start, end, path, bytes FROM excerpts ORDER BY start").fetchall()
    return [
        (
            st,
            datetime.fromisoformat(a.replace("Z", "+00:00")),
            datetime.fromisoformat(b.replace("Z", "+00:00")),
            Path(p),
            n,
        )
        for st, a, b, p, n in rows
    ]


def _feed(ex: Excerpts, pcm: np.ndarray, start: datetime, block: int = RATE // 4) -> None:
    for i in range(0, pcm.size, block):
        ex.add("rfm", start + timedelta(seconds=i / RATE), as_pcm(pcm[i : i + block]))


def _bit_errors(a: np.ndarray, b: np.ndarray) -> float:
    return aligned_ber(a, b, 0)[0]  # the matcher's bit error rate, aligned at their starts


def test_each_minute_is_one_playable_opus_file_of_the_stations_audio(tmp_path: Path) -> None:
    pcm = pcm11k(excerpt(track(2), tmp_path / "a.wav", 0, 150, codec="wav"))
    assert pcm.size >= 149 * RATE
    ob = Outbox(tmp_path / "outbox.sqlite")
    ex = Excerpts(tmp_path / "excerpts", ob, RATE, 24, 48)
    _feed(ex, pcm, T0)
    ex.flush("rfm")  # the run ends: the last, partial minute is kept too
    rows = _rows(ob)
    seconds = pcm.size / RATE
    # back to back, one a minute (closed at the first block past it), covering the run exactly
    assert len(rows) == 3 and rows[0][1] == T0 and rows[-1][2] == T0 + timedelta(seconds=seconds)
    assert all(60 <= (r[2] - r[1]).total_seconds() < 60.25 for r in rows[:2])
    assert all(a[2] == b[1] for a, b in itertools.pairwise(rows))
    assert not list((tmp_path / "excerpts").rglob("*.part"))
    for station, start, end, path, size in rows:
        assert station == "rfm" and path.parent == tmp_path / "excerpts" / "rfm" and path.suffix == ".ogg"
        assert size == path.stat().st_size
        with av.open(str(path)) as f:
            s = f.streams.audio[0]
            assert s.codec_context.name == "opus" and s.codec_context.channels == 1
            assert f.duration is not None
            assert abs(f.duration / av.time_base - (end - start).total_seconds()) < 0.05
        # FFmpeg reads the file without a CRC or framing complaint
        res = subprocess.run(
            ["ffmpeg", "-v", "warning", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
        )
        assert res.returncode == 0 and res.stderr == "", res.stderr
        # ~24 kbit/s, as configured
        assert 20_000 < size * 8 / (end - start).total_seconds() < 30_000
    # what the second file plays is what the station aired in that minute
    heard = pcm11k(rows[1][3])
    first = round((rows[1][1] - T0).total_seconds() * RATE)
    aired = pcm[first : first + heard.size]
    assert abs(heard.size / RATE - (rows[1][2] - rows[1][1]).total_seconds()) < 0.05
    assert _bit_errors(fingerprint_pcm(heard, RATE), fingerprint_pcm(aired, RATE)) < 0.15
    assert _bit_errors(fingerprint_pcm(heard, RATE), fingerprint_pcm(pcm[: 60 * RATE], RATE)) > 0.35
    # an analyst's cut across two minutes
    cut = ex.extract("rfm", T0 + timedelta(seconds=50), T0 + timedelta(seconds=70), tmp_path / "cut.ogg")
    assert cut is not None
    assert abs(pcm11k(cut).size / RATE - 20) < 0.1
    ob.close()


KILLED = """
import os, signal, sys
from datetime import datetime
from pathlib import Path
import numpy as np
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from shared.pcm import as_pcm

root, db, raw, start = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
pcm = np.fromfile(raw, dtype=np.int16)
ex = Excerpts(root, Outbox(db), 11025, 24, 48)
at = datetime.fromisoformat(start)
for i in range(0, pcm.size, 2756):
    ex.add("rfm", at, as_pcm(pcm[i : i + 2756]))
os.kill(os.getpid(), signal.SIGKILL)  # a power cut in the middle of the minute
"""


def test_the_minute_being_written_when_the_agent_is_killed_is_kept(tmp_path: Path) -> None:
    pcm = pcm11k(excerpt(track(2), tmp_path / "a.wav", 10, 20, codec="wav"))
    raw = tmp_path / "a.raw"
    pcm.tofile(raw)
    root, db = tmp_path / "excerpts", tmp_path / "outbox.sqlite"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED), str(root), str(db), str(raw), T0.isoformat()],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(list(root.rglob("*.ogg.part"))) == 1 and not list(root.rglob("*.ogg"))
    ob = Outbox(db)
    assert _rows(ob) == []
    ex = Excerpts(root, ob, RATE, 24, 48)  # the agent starts again
    assert _rows(ob) == [] and ex.recover() == 1
    rows = _rows(ob)
    assert len(rows) == 1 and not list(root.rglob("*.part"))
    station, start, end, path, _size = rows[0]
    assert station == "rfm" and start == T0 and path.exists()
    # all but the last second at most (the Ogg page being filled) survives the kill
    kept = (end - start).total_seconds()
    assert pcm.size / RATE - 1.1 < kept <= pcm.size / RATE + 0.05
    assert abs(pcm11k(path).size / RATE - kept) < 0.05
    assert ex.recover() == 0
    ob.close()


def test_the_technician_cuts_what_a_station_aired(tmp_path: Path) -> None:
    """`sodav-agent excerpt` after a real run: the cut is the programme at those times."""
    clip = excerpt(track(3), tmp_path / "clip.mp3", 30, 150)
    cfg = file_agent_config(tmp_path, clip, excerpt_hours=1, start="2026-01-01T00:00:00Z")
    ran = cli(cfg, "run", timeout=120)
    assert ran.returncode == 0, ran.stderr
    out = tmp_path / "cut.ogg"
    got = cli(cfg, "excerpt", "rfm", "2026-01-01T00:00:50Z", "70", "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith(f"{out}: 70.0 s of rfm, 2026-01-01 00:00:50 to 2026-01-01 00:02:00 UTC")
    aired = pcm11k(clip)
    heard = pcm11k(out)
    assert abs(heard.size / RATE - 70) < 0.05
    assert _bit_errors(fingerprint_pcm(heard, RATE), fingerprint_pcm(aired[50 * RATE :], RATE)) < 0.15
    assert _bit_errors(fingerprint_pcm(heard, RATE), fingerprint_pcm(aired[:], RATE)) > 0.35
    # past the end of what was captured: what there is, and said
    tail = cli(cfg, "excerpt", "rfm", "2026-01-01 00:02:00", "2026-01-01 00:05:00", "-o", str(out))
    assert tail.returncode == 0, tail.stderr
    assert "only 2026-01-01 00:02:00 to 2026-01-01 00:02:30 of the range is kept" in tail.stdout
    assert abs(pcm11k(out).size / RATE - 30) < 0.05
    # nothing there: what is kept; unknown station; not a time
    none = cli(cfg, "excerpt", "rfm", "2026-01-02T00:00:00", "60", "-o", str(out))
    assert none.returncode == 1
    assert (
        "no audio of rfm" in none.stderr and "kept: 2026-01-01 00:00:00 to 2026-01-01 00:02:30" in none.stderr
    )
    other = cli(cfg, "excerpt", "zik", "2026-01-01T00:00:00", "60")
    assert other.returncode == 2 and "stations: rfm" in other.stderr
    bad = cli(cfg, "excerpt", "rfm", "yesterday", "60")
    assert bad.returncode == 2 and "UTC time, e.g. 2026-11-26T10:15:00" in bad.stderr


def test_a_cut_across_an_outage_skips_it_and_says_so(tmp_path: Path) -> None:
    pcm = pcm11k(excerpt(track(2), tmp_path / "a.wav", 0, 20, codec="wav"))
    cfg = file_agent_config(tmp_path, tmp_path / "a.wav", excerpt_hours=1)
    ob = Outbox(tmp_path / "data" / "outbox.sqlite")
    ex = Excerpts(tmp_path / "data" / "excerpts", ob, RATE, 24, 1)
    now = datetime.now(UTC).replace(microsecond=0)
    _feed(ex, pcm[: 10 * RATE], now - timedelta(seconds=60))  # 10 s, then the stream is down
    ex.flush("rfm")
    _feed(ex, pcm[10 * RATE :], now - timedelta(seconds=30))  # 10 s more, 20 s later
    ex.flush("rfm")
    ob.close()
    out = tmp_path / "cut.ogg"
    start = (now - timedelta(seconds=55)).isoformat()
    got = cli(cfg, "excerpt", "rfm", start, "30", "-o", str(out))
    assert got.returncode == 0, got.stderr
    # 5 s before the outage, 5 s after it: 10 s of audio, the 20 s gap named
    assert abs(pcm11k(out).size / RATE - 10) < 0.05
    gap_from = (now - timedelta(seconds=50)).strftime("%Y-%m-%d %H:%M:%S")
    gap_to = (now - timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S")
    assert f"not captured from {gap_from} to {gap_to} UTC" in got.stdout
