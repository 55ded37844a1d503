"""The agent runs on small boxes: importing it must not pull in the collector's stack.

Nor numpy (14 MB of RSS, bench/agent), which the agent's package does not even carry. Nor
sqlite-utils or pydantic-settings (2.0 and 1.6 MB, not used: edge_agent/buffer/migrations.py,
pyproject.toml). Nor pygments, which httpx imports for its command-line client when a
development venv has it (1.5 MB).
"""

from __future__ import annotations

import json
import pkgutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import edge_agent
from tests.support.agentproc import file_agent_config
from tests.support.audio import excerpt, track


def test_agent_modules_never_import_server_libraries() -> None:
    modules = ["edge_agent"] + [
        f"edge_agent.{m.name}" for m in pkgutil.walk_packages(edge_agent.__path__, prefix="")
    ]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "import edge_agent.cli; edge_agent.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'psycopg', 'alembic', 'starlette', 'uvicorn', 'collector', "
        "'numpy', 'pandas', 'pygments', 'rich', 'soundfile', 'sqlite_utils', 'pydantic_settings'))\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


NO_NUMPY = (
    "import sys\n"
    "sys.modules['numpy'] = sys.modules['pandas'] = None  # as on a box: not installed\n"
    "from edge_agent.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_agent_runs_and_fingerprints_without_numpy(tmp_path: Path) -> None:
    # the daemon (capture, levels, segments, excerpts, outbox) and the technician's
    # fingerprint command, on real music, in a Python where numpy cannot be imported
    clip = excerpt(track(3), tmp_path / "clip.mp3", 30, 25)
    cfg = file_agent_config(
        tmp_path, clip, slug="st", excerpt_hours=1, variants=(0, 20000), start="2026-01-01T00:00:00Z"
    )
    run = subprocess.run(
        [sys.executable, "-c", NO_NUMPY, "--config", str(cfg), "run"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    db = sqlite3.connect(tmp_path / "data" / "outbox.sqlite")
    rows = db.execute("SELECT payload FROM segments").fetchall()
    (excerpts,) = db.execute("SELECT count(*) FROM excerpts").fetchone()
    db.close()
    segments = [json.loads(r[0]) for r in rows]
    assert len(segments) == 3  # 25 s in 10 s segments: two whole ones and a 5 s tail
    assert all(-40 < s["level_dbfs"] < 0 and len(s["fingerprints"]) == 2 for s in segments)
    assert excerpts == 1
    fp = subprocess.run(
        [sys.executable, "-c", NO_NUMPY, "fingerprint", "--json", str(clip)], capture_output=True, text=True
    )
    assert fp.returncode == 0, fp.stderr
    out = json.loads(fp.stdout)
    assert abs(out["duration"] - 25) < 0.1 and out["values"] > 150
