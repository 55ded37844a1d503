"""Several stations in one agent: every capture thread writes its segments, none crashes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.audio import excerpt, track


def test_three_file_stations_all_reach_the_outbox(tmp_path: Path) -> None:
    mp3 = excerpt(track(0), tmp_path / "radio.mp3", 5.0, 35.0)
    stations = "".join(
        f'[[stations]]\nslug = "st{i}"\npath = "{mp3}"\nrealtime = false\n'
        f'start = "2026-01-01T00:00:00Z"\nrate_variants_ppm = [0]\n'
        for i in range(3)
    )
    cfg = tmp_path / "agent.toml"
    cfg.write_text(f'data_dir = "{tmp_path / "data"}"\n[buffer]\nexcerpt_hours = 0\n{stations}')
    agent = Path(sys.executable).with_name("sodav-agent")
    res = subprocess.run(
        [str(agent), "--config", str(cfg), "run"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "crashed" not in res.stderr, res.stderr[-3000:]
    db = sqlite3.connect(tmp_path / "data" / "outbox.sqlite")
    counts = dict(db.execute("SELECT station, count(*) FROM segments GROUP BY station").fetchall())
    db.close()
    # 35 s of audio: three full 10 s segments and the 5 s tail, for each station
    assert counts == {"st0": 4, "st1": 4, "st2": 4}
