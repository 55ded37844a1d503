"""Test configuration: real PostgreSQL and SQLite for every collector database test.

A test that uses the ``backend`` fixture (directly or through ``database_url``) is run once
per backend; the summary line says how many ran on each, and a full run where either count
is zero fails.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fixtures.collector import collector  # noqa: F401
from tests.fixtures.database import (  # noqa: F401  (fixtures)
    BACKENDS,
    database_url,
    postgres_server,
    postgres_template,
    sqlite_template,
)

_backend_counts: Counter[str] = Counter()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS)


_backend_of: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "backend" in callspec.params:
            _backend_of[item.nodeid] = callspec.params["backend"]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and report.nodeid in _backend_of:
        _backend_counts[_backend_of[report.nodeid]] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    parts = ", ".join(f"{b}: {_backend_counts[b]} passed" for b in BACKENDS)
    terminalreporter.write_line(f"database backends: {parts}")
