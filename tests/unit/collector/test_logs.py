"""One log level for the collector, uvicorn and Alembic; text or JSON lines with the station,
agent and batch as fields. The command-line cases run ``sodav-collector`` as a user would."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.logs import JsonFormatter, configure


@pytest.fixture
def restore_logging() -> Iterator[None]:
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access", "alembic", "alembic.runtime.plugins"]
    loggers = [logging.getLogger(n) for n in names]
    saved = [(list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


def _record(name: str, msg: str, args: tuple[object, ...] = (), **extra: object) -> logging.LogRecord:
    record = logging.getLogger(name).makeRecord(name, logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_station_agent_and_batch_as_fields() -> None:
    fmt = JsonFormatter()
    line = json.loads(
        fmt.format(
            _record("collector.ingest", "upload agent=%s batch=%s segments=%d", ("dakar-01", "72d2", 13))
        )
    )
    assert line["message"] == "upload agent=dakar-01 batch=72d2 segments=13"
    assert (line["agent"], line["batch"], line["level"], line["logger"]) == (
        "dakar-01",
        "72d2",
        "INFO",
        "collector.ingest",
    )
    assert line["ts"].endswith("Z") and "station" not in line
    given = json.loads(
        fmt.format(_record("collector.worker", "matched agent=x", station="rfm-dakar", agent="box-2"))
    )
    assert (given["station"], given["agent"]) == ("rfm-dakar", "box-2")  # extra= wins over the words
    access = json.loads(
        fmt.format(
            _record(
                "uvicorn.access",
                '%s - "%s %s HTTP/%s" %d',
                ("10.0.0.7:5123", "POST", "/api/v1/uploads", "1.1", 200),
            )
        )
    )
    assert (access["method"], access["path"], access["status"], access["client"]) == (
        "POST",
        "/api/v1/uploads",
        200,
        "10.0.0.7:5123",
    )


def test_one_level_holds_for_uvicorn_and_alembic(restore_logging: None) -> None:
    others = list(logging.getLogger().handlers)  # pytest's own, kept
    configure("WARNING", "json")
    for name in ("collector.worker", "uvicorn.error", "uvicorn.access", "alembic.runtime.migration"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    configure("DEBUG", "text")
    assert logging.getLogger("alembic.runtime.migration").getEffectiveLevel() == logging.DEBUG
    mine = [h for h in logging.getLogger().handlers if h not in others]
    assert len(mine) == 1  # configuring again replaces its handler, and leaves the others


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SODAV_COLLECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", **env}
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", *args], env=full, capture_output=True, text=True, timeout=120
    )


def test_migrations_log_in_json_at_the_configured_level(tmp_path: Path) -> None:
    done = _cli(tmp_path, "db", "upgrade", SODAV_COLLECTOR_LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(
        line["logger"] == "alembic.runtime.migration" and "Running upgrade" in line["message"]
        for line in lines
    )
    assert not any(line["logger"] == "alembic.runtime.plugins" for line in lines)  # its chatter is DEBUG

    quiet = _cli(tmp_path / "q", "db", "upgrade", SODAV_COLLECTOR_LOG_LEVEL="WARNING")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""

    wrong = _cli(tmp_path, "stations", "list", SODAV_COLLECTOR_LOG_FORMAT="xml")
    assert wrong.returncode == 2
    assert "log_format = 'xml'" in wrong.stderr
