"""The agent's durable buffer: the SQLite outbox and the excerpt store."""

import sys


def _import_sqlite_utils() -> None:
    """Import sqlite-utils as if numpy and pandas were not installed, unless they are loaded.

    sqlite-utils imports both at import time when they are installed, only to map their
    scalar types to column types. The agent hands it neither, and numpy alone would cost
    the agent 14 MB of RSS (bench/agent). The agent's package does not install them; a
    development venv, or a machine that also runs the collector, does.
    """
    if "sqlite_utils" in sys.modules:
        return
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_import_sqlite_utils()
