"""Admin commands on a database that is not ready say what to do, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_unmigrated_database_asks_for_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = _run(url, "stations", "list")
    assert result.returncode == 2
    assert "run `sodav-collector db upgrade` first" in result.stderr
    assert "Traceback" not in result.stderr
    assert _run(url, "db", "upgrade").returncode == 0
    assert _run(url, "stations", "list").returncode == 0


def test_unreachable_postgresql_names_the_setting() -> None:
    result = _run("postgresql://nobody@127.0.0.1:1/sodav", "agents", "list")
    assert result.returncode == 2
    assert "SODAV_COLLECTOR_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
