"""The wheel `./dev wheel` builds, installed the way the docs say (sodav-monitor is not on PyPI).

Each extra goes into a fresh virtualenv made from this machine's Python, exactly as
docs/technician/install.md and docs/ops/deploy.md tell technicians and ops:
``pip install 'dist/sodav_monitor-<version>-py3-none-any.whl[agent]'``; pip fetches the
dependencies from PyPI (or the pip cache). The venv's command then answers ``--version``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("shared", "edge_agent", "collector")


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        version: str = tomllib.load(fh)["project"]["version"]
    return version


@pytest.mark.timeout(900)  # the first to ask builds the wheel (and the web app, if web/ changed)
def test_wheel_holds_the_checkout_and_nothing_else(wheel: Path) -> None:
    assert wheel.name == f"sodav_monitor-{_version()}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    modules = {f for f in listed if f.endswith(".py") and (ROOT / f).is_file()}
    assert {n for n in names if n.endswith(".py")} == modules
    assert "collector/migrations/script.py.mako" in names  # package data (Alembic)
    assert "edge_agent/agent.example.toml" in names
    # the built web app and the API pages' scripts: pip install serves the app without Node.js
    assert "collector/web_dist/index.html" in names
    assert any(n.startswith("collector/web_dist/assets/") and n.endswith(".js") for n in names)
    assert "collector/web_dist/api-docs/swagger-ui-bundle.js" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "bench/"))]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("extra", "command", "absent"),
    [
        ("agent", "sodav-agent", ["fastapi", "sqlalchemy", "psycopg", "numpy"]),
        ("collector", "sodav-collector", []),
    ],
)
def test_fresh_venv_runs_the_installed_command(
    wheel: Path, tmp_path: Path, extra: str, command: str, absent: list[str]
) -> None:
    venv = tmp_path / "venv"
    base = Path(sys._base_executable).resolve()  # type: ignore[attr-defined]
    subprocess.run([str(base), "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check", f"{wheel}[{extra}]"],
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    version = subprocess.run([str(venv / "bin" / command), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"{command} {_version()}", version.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert [p for p in absent if (site / p).exists()] == []  # the agent extra stays small
    if extra == "collector":  # the app it serves at / came with it
        assert (site / "collector" / "web_dist" / "index.html").is_file()


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# `pip install 'sodav-monitor[agent]'`, `pip install sodav-monitor==0.1.0`: a name for an index
# (the pages may say "never `pip install sodav-monitor`"; a checkout is `/path/to/sodav-monitor[agent]`)
BY_NAME = re.compile(r"pip install [^`\n]*?(?<![\w./-])['\"]?sodav-monitor(\[|[=<>~!]=)")


def test_docs_install_what_the_project_builds() -> None:
    """No page sends a reader to PyPI for sodav-monitor: anyone could register the name there."""
    by_name = [
        f"{page.relative_to(ROOT)}: {match.group(0)}"
        for page in DOCS
        for match in BY_NAME.finditer(page.read_text(encoding="utf-8"))
    ]
    assert by_name == []
    wheel = "sodav_monitor-0.1.0-py3-none-any.whl["
    for page in ("README.md", "docs/technician/install.md", "docs/technician/install.fr.md"):
        assert wheel in (ROOT / page).read_text(encoding="utf-8"), page
    for page in ("docs/ops/deploy.md", "docs/ops/deploy.fr.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert wheel in text and "./dev wheel" in text and "requirements.yml" in text, page
