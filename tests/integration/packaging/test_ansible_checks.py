"""ansible/ checked the way an operator's controller sees it: ansible-core plus the collections
ansible/requirements.yml names (tests/support/ansible.py), not the ~80 that Debian's ``ansible``
package puts on Python's path. Syntax, ansible-lint's production profile, the example
inventory. The real runs of the roles are in test_ansible.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ansible
from tests.support.ansible import ANSIBLE, ROOT

PLAYBOOKS = ["agents.yml", "collector.yml"]

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible not installed")


def _syntax_check(playbook: str, tmp: Path, collections: Path | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ansible-playbook", "-i", str(ANSIBLE / "inventory/example"), "--syntax-check", playbook],
        cwd=ANSIBLE,
        capture_output=True,
        text=True,
        env=ansible.env(tmp, collections),
        timeout=120,
    )


def test_requirements_name_every_collection_the_roles_use() -> None:
    used = set()
    for path in [*ANSIBLE.glob("roles/*/tasks/*.yml"), *ANSIBLE.glob("roles/*/handlers/*.yml")]:
        used |= set(re.findall(r"^\s*(?:- )?([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:", path.read_text(), re.M))
    used.discard("ansible.builtin")
    assert used, "no collection module found: the pattern above is out of date"
    assert used <= set(ansible.required_collections())


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_syntax(playbook: str, tmp_path: Path, ansible_collections: Path) -> None:
    result = _syntax_check(playbook, tmp_path, ansible_collections)
    assert result.returncode == 0, result.stdout + result.stderr


def test_syntax_check_without_the_requirements_names_the_collection(tmp_path: Path) -> None:
    """What ansible-core alone says before `ansible-galaxy collection install -r requirements.yml`."""
    result = _syntax_check("collector.yml", tmp_path, None)
    assert result.returncode != 0
    assert "community.postgresql" in result.stdout + result.stderr


def test_ansible_lint(tmp_path: Path, ansible_collections: Path) -> None:
    if shutil.which("ansible-lint") is None:
        pytest.fail("ansible-lint is not installed: apt-get install ansible-lint (./dev setup does)")
    result = subprocess.run(
        ["ansible-lint", "--offline", "--profile", "production", *PLAYBOOKS],
        cwd=ANSIBLE,
        capture_output=True,
        text=True,
        env=ansible.env(tmp_path, ansible_collections),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_example_inventory_parses(tmp_path: Path) -> None:
    result = subprocess.run(
        ["ansible-inventory", "-i", str(ANSIBLE / "inventory/example"), "--list"],
        capture_output=True,
        text=True,
        env=ansible.env(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    assert set(inventory["agents"]["hosts"]) == {"dakar-plateau-01", "saint-louis-01"}
    hostvars = inventory["_meta"]["hostvars"]["dakar-plateau-01"]
    assert hostvars["edge_agent_collector_url"].startswith("https://")


def test_role_files_are_the_packaged_units() -> None:
    """The roles install packaging/systemd/*.service (symlinks), so the two never drift."""
    for role, unit in (
        ("edge_agent", "sodav-agent.service"),
        ("collector", "sodav-collector.service"),
        ("collector", "sodav-collector-worker.service"),
    ):
        path = ANSIBLE / "roles" / role / "files" / unit
        assert path.resolve() == (ROOT / "packaging/systemd" / unit).resolve()
