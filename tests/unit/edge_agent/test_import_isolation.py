"""The agent runs on small boxes: importing it must not pull in the collector's stack."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import edge_agent


def test_agent_modules_never_import_server_libraries() -> None:
    modules = ["edge_agent"] + [
        f"edge_agent.{m.name}" for m in pkgutil.walk_packages(edge_agent.__path__, prefix="")
    ]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import edge_agent.cli; edge_agent.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'psycopg', 'alembic', 'starlette', 'uvicorn', 'collector'))\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
