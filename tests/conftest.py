"""Test configuration: real PostgreSQL and SQLite for every collector database test.

A test that uses the ``backend`` fixture (directly or through ``database_url``) is run once
per backend (``@pytest.mark.backends("sqlite")``: on that one only, for a slow real-time test
whose subject is not the database, e.g. the agent's behaviour); the summary line says how many
passed on each, and a full run (``tests/``, no ``-k``/``-m``) where either count is zero
fails. Counting works under pytest-xdist too.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fixtures.collector import collector, module_collector  # noqa: F401
from tests.fixtures.database import (  # noqa: F401  (fixtures)
    BACKENDS,
    database_url,
    module_database_url,
    postgres_databases,
    postgres_server,
    postgres_template,
    sqlite_template,
    sqlite_url,
)
from tests.fixtures.redis import redis_server  # noqa: F401
from tests.fixtures.s3 import s3_server  # noqa: F401

_backend_counts: Counter[str] = Counter()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("backends")
        # a module-scoped database (module_database_url) is made once per backend: the
        # module's tests are then grouped by backend
        scope = "module" if "module_database_url" in metafunc.fixturenames else "function"
        metafunc.parametrize("backend", only.args if only else BACKENDS, scope=scope)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # the slow real-time tests first, so that pytest-xdist's workers do not end the run with
    # one of them alone on one worker while the others are idle (a stable sort: the same order
    # on every worker, as xdist requires). xdist hands them out one at a time
    # (--maxschedchunk=1, pyproject.toml), so each worker takes the next as it frees up
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _backend_of(nodeid: str) -> str | None:
    """The backend of a parametrized test id (``test_x[postgresql]``, ``test_y[sqlite-2]``)."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    params = nodeid[nodeid.rindex("[") + 1 : -1].split("-")
    return next((b for b in BACKENDS if b in params), None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # nodeid-based, so it also counts the reports pytest-xdist relays from its workers
    backend = _backend_of(report.nodeid)
    if report.when == "call" and report.passed and backend is not None:
        _backend_counts[backend] += 1


def _full_run(config: pytest.Config) -> bool:
    """The whole suite, on the controller (not one pytest-xdist worker's share of it)."""
    if hasattr(config, "workerinput") or config.getoption("-k") or config.getoption("-m"):
        return False
    whole = ("tests", str(config.rootpath / "tests"))
    return not config.args or all(a.rstrip("/") in whole for a in config.args)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0 and _full_run(session.config):
        if any(_backend_counts[b] == 0 for b in BACKENDS):
            session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    parts = ", ".join(f"{b}: {_backend_counts[b]} passed" for b in BACKENDS)
    terminalreporter.write_line(f"database backends: {parts}")
    if _full_run(terminalreporter.config) and any(_backend_counts[b] == 0 for b in BACKENDS):
        terminalreporter.write_line("a full run must pass tests on every backend: this one did not", red=True)
