"""A real edge agent: ``sodav-agent run`` in a subprocess with its own TOML and token file.

The config is written the way a technician would (token in a 0600 file, never in the TOML)
with short segments and quick batches so a test sees many uploads in a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_token(path: Path, token: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return path


def agent_config(
    workdir: Path,
    name: str,
    collector_url: str,
    token: str | None,
    stations: dict[str, str],
    segment_seconds: float = 2,
    **collector: object,
) -> Path:
    """Write agent.toml (+ token file) under ``workdir``; ``stations`` maps slug to stream URL.

    Segments are 2 s by default (many uploads in a few seconds); 10 s, as deployed, to match."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = [f'name = "{name}"', f'data_dir = "{workdir / "data"}"', 'log_level = "INFO"', "[collector]"]
    lines.append(f'url = "{collector_url}"')
    if token is not None:
        lines.append(f'token_file = "{write_token(workdir / "token", token)}"')
    opts: dict[str, object] = {
        "timeout_s": 3,
        "batch_max_segments": 4,
        "batch_max_age_s": 0.5,
        "heartbeat_interval_s": 1,
        "retry_max_backoff_s": 1,
        **collector,
    }
    lines += [f"{k} = {json.dumps(v)}" for k, v in opts.items()]
    lines += ["[fingerprint]", f"segment_seconds = {segment_seconds}", "[buffer]", "excerpt_hours = 0"]
    lines += ["[health]", "stall_seconds = 5", "reconnect_initial_s = 0.3", "reconnect_max_s = 1"]
    for slug, url in stations.items():
        lines += ["[[stations]]", f'slug = "{slug}"', f'url = "{url}"', "rate_variants_ppm = [0]"]
    path = workdir / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def file_agent_config(
    workdir: Path,
    audio: Path,
    *,
    slug: str = "rfm",
    realtime: bool = False,
    excerpt_hours: float = 0,
    segment_seconds: float | None = None,
    variants: tuple[int, ...] = (0,),
    start: str | None = None,
) -> Path:
    """agent.toml for one file station and no collector (buffering only), under ``workdir``."""
    lines = [f'data_dir = "{workdir / "data"}"']
    if segment_seconds is not None:
        lines += ["[fingerprint]", f"segment_seconds = {segment_seconds}"]
    lines += ["[buffer]", f"excerpt_hours = {excerpt_hours}"]
    lines += ["[[stations]]", f'slug = "{slug}"', f'path = "{audio}"', f"realtime = {str(realtime).lower()}"]
    if start is not None:
        lines.append(f'start = "{start}"')
    lines.append(f"rate_variants_ppm = {list(variants)}")
    path = workdir / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class AgentProcess:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.workdir = config.parent
        self.db = self.workdir / "data" / "outbox.sqlite"
        self.log_path = self.workdir / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edge_agent.cli", "--config", str(self.config), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"agent ignored SIGTERM:\n{self.log()[-3000:]}") from None
        return int(self.proc.returncode)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def status(self) -> dict[str, Any]:
        """``sodav-agent status --json``, what the technician runs."""
        res = cli(self.config, "status", "--json")
        assert res.returncode == 0, res.stderr
        out: dict[str, Any] = json.loads(res.stdout)
        return out

    def status_text(self) -> str:
        res = cli(self.config, "status")
        assert res.returncode == 0, res.stderr
        return res.stdout

    # --- reading the outbox file directly (cheap, for waiting loops) -------------------------
    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return list(conn.execute(sql).fetchall())
        except sqlite3.OperationalError:  # not migrated yet
            return []
        finally:
            conn.close()

    def next_seq(self, station: str) -> int:
        """How many segment seqs this agent has handed out for ``station``."""
        rows = self._query(f"SELECT next FROM sequences WHERE station = '{station}' AND kind = 'segment'")  # noqa: S608
        return int(rows[0][0]) if rows else 0

    def queued(self) -> list[int]:
        return [int(r[0]) for r in self._query("SELECT seq FROM segments WHERE parked IS NULL ORDER BY seq")]

    def parked(self) -> list[int]:
        return [int(r[0]) for r in self._query("SELECT seq FROM segments WHERE parked IS NOT NULL")]


def wait_for(pred: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def agent_status(data_dir: Path, workdir: Path, *options: str) -> str:
    """What ``sodav-agent status`` prints for the agent whose data is in ``data_dir``."""
    config = workdir / "status.toml"
    config.write_text(f'data_dir = "{data_dir}"\n')
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "--config", str(config), "status", *options],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
