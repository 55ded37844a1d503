"""What the packaging tests share: the project's wheel and the Ansible collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.once import built_once
from tests.support import ansible

ROOT = Path(__file__).resolve().parents[3]


def _build_wheel(out: Path) -> Path:
    result = subprocess.run(
        [str(ROOT / "dev"), "wheel", str(out)],
        env={**os.environ, "SODAV_VENV": sys.prefix},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == out and path.is_file(), result.stdout
    return path


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `./dev wheel` builds (what docs and roles install: the project is not on PyPI),
    once for all pytest-xdist workers."""
    return built_once(tmp_path_factory, "wheel", _build_wheel)


@pytest.fixture(scope="session")
def ansible_collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ansible/requirements.yml installed, as `ansible-galaxy collection install -r` would (once
    for all pytest-xdist workers)."""
    if not ansible.DEBIAN_COLLECTIONS.is_dir():
        pytest.skip(
            f"no local copy of the collections ({ansible.DEBIAN_COLLECTIONS}): apt-get install ansible"
        )
    return built_once(tmp_path_factory, "galaxy", _install_collections)


def _install_collections(tmp: Path) -> Path:
    dest = tmp / "collections"
    result = ansible.install_requirements(dest, tmp)
    assert result.returncode == 0, result.stdout + result.stderr
    return dest
