"""``./dev demo`` installs what the demo runs, and the demo stays out of the wheel.

The demo checks its tools and music before it starts (demo/run.py); ``dev`` installs them on
Debian. A tool added to one and not the other is what stopped ``./dev demo`` on a fresh
machine once (espeak-ng): it fails here instead.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from demo.programme import MUSIC_PACKAGE
from demo.run import TOOLS

ROOT = Path(__file__).resolve().parents[3]


def dev_list(name: str) -> set[str]:
    """The Debian packages of one of ``dev``'s lists (RUNTIME_DEBS=(...), possibly on two lines)."""
    text = (ROOT / "dev").read_text()
    found = re.search(rf"^{name}=\((.*?)\)", text, re.MULTILINE | re.DOTALL)
    assert found, f"dev has no {name} list"
    return set(found.group(1).split())


def test_dev_demo_installs_every_package_the_demo_needs() -> None:
    installed = dev_list("RUNTIME_DEBS") | dev_list("BUILD_DEBS") | dev_list("DEMO_DEBS")
    needed = {*TOOLS.values(), MUSIC_PACKAGE, "python3-venv"}
    assert needed <= installed, f"./dev demo does not install {sorted(needed - installed)}"


def test_a_missing_tool_names_the_package_to_install(tmp_path: Path) -> None:
    # a PATH with ffmpeg and not espeak-ng, as on the machine where the demo first stopped
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed: run ./dev setup"
    (tmp_path / "ffmpeg").symlink_to(ffmpeg)
    env = dict(os.environ, PATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--dir", str(tmp_path / "work")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "apt-get install espeak-ng" in result.stderr
    assert "./dev demo" not in result.stderr  # not the command that just failed
    assert not (tmp_path / "work").exists()  # stopped before building anything


def test_the_demo_is_not_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    shipped = [p for p in find["include"] if fnmatch.fnmatch("demo", p)]
    excluded = any(fnmatch.fnmatch("demo", p) for p in find.get("exclude", []))
    assert excluded or not shipped, f"pyproject's package find ships demo/ ({shipped})"
