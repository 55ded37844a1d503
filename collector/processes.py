"""``sodav-collector serve --workers N``: N HTTP processes on one port, one matching worker.

uvicorn's supervisor starts N processes (``multiprocessing`` spawn), each importing
:func:`app_from_environment`, which builds its own app, engine and live feed from the same
configuration; it restarts one that dies. The matching worker is not run in each of them (N
matching threads would only queue on each other's station locks): the supervisor starts one
``sodav-collector worker`` process beside them, with the same configuration, and stops it
after them. Several processes need PostgreSQL: on SQLite the command refuses.

Metrics keep adding up: unless ``PROMETHEUS_MULTIPROC_DIR`` is set already, the supervisor
makes an empty directory for the run and gives it to every process it starts, so any
process's ``/metrics`` shows the counters of all of them (:mod:`collector.metrics`).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from fastapi import FastAPI

from collector.errors import CollectorError
from collector.logs import configure as configure_logging
from collector.metrics import MULTIPROC_ENV
from collector.settings import ENV_PREFIX, CollectorSettings, load

log = logging.getLogger("collector.serve")

CONFIG_ENV = ENV_PREFIX + "CONFIG"
WORKER_STOP_S = 30.0


class NeedsPostgres(CollectorError):
    """Several processes asked for on SQLite."""


def app_from_environment() -> FastAPI:
    """One HTTP process's app (uvicorn's factory): the configuration the supervisor was given,
    through ``SODAV_COLLECTOR_CONFIG`` and the ``SODAV_COLLECTOR_*`` variables."""
    from collector.app import create_app

    settings = load()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def serve_processes(
    settings: CollectorSettings, config: str | None, workers: int, options: dict[str, Any]
) -> int:
    """Run ``workers`` HTTP processes (uvicorn ``options``: host, port, ...) and one matching
    worker until SIGTERM or Ctrl-C."""
    import uvicorn

    if settings.is_sqlite:
        raise NeedsPostgres(
            f"--workers {workers} needs PostgreSQL: SQLite, the embedded default, serves from one "
            "process; run `serve` without --workers, or set database_url to a PostgreSQL database "
            "(docs/ops/scaling.md)"
        )
    made_dir = None
    if not os.environ.get(MULTIPROC_ENV):
        made_dir = tempfile.mkdtemp(prefix="sodav-metrics-")
        os.environ[MULTIPROC_ENV] = made_dir
    if config is not None:
        os.environ[CONFIG_ENV] = os.path.abspath(config)
    matcher = None
    if settings.worker.enabled:
        matcher = subprocess.Popen([sys.executable, "-m", "collector.cli", "worker", "--no-migrate"])
        log.info("matching worker started (pid %d) beside %d HTTP processes", matcher.pid, workers)
    os.environ[ENV_PREFIX + "WORKER__ENABLED"] = "false"  # the HTTP processes match nothing
    try:
        uvicorn.run("collector.processes:app_from_environment", factory=True, workers=workers, **options)
    finally:
        if matcher is not None:
            _stop(matcher)
        if made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)
    return 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(WORKER_STOP_S)
        except subprocess.TimeoutExpired:
            log.warning("matching worker did not stop within %.0f s: killed", WORKER_STOP_S)
            proc.kill()
            proc.wait()
