"""Run Ansible the way an operator's controller does: ansible-core plus ansible/requirements.yml.

Debian's ``ansible`` package puts ~80 collections on Python's path; a controller with only
``ansible-core`` has none of them, and a playbook that needs one fails its syntax check there.
:func:`env` hides those (``ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false``) and shows Ansible only the
``collections`` directory that :func:`install_requirements` fills the way
``ansible-galaxy collection install -r requirements.yml`` does, offline (the test machines reach
no Galaxy server): every collection requirements.yml names is installed from the copy Debian's
``ansible`` package ships, then ansible-galaxy itself checks requirements.yml, versions
included, against what is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = ROOT / "ansible"
REQUIREMENTS = ANSIBLE / "requirements.yml"
DEBIAN_COLLECTIONS = Path("/usr/lib/python3/dist-packages/ansible_collections")


def env(tmp: Path, collections: Path | None = None) -> dict[str, str]:
    """The environment of an ansible command: this repository's config, ``collections`` only."""
    out = dict(os.environ)
    out.update(
        {
            "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(ANSIBLE / "roles"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(tmp / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CALLBACKS_ENABLED": "",
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_COLLECTIONS_PATH": str(collections or tmp / "no-collections"),
        }
    )
    return out


def required_collections() -> list[str]:
    """The collection names ansible/requirements.yml lists."""
    data = yaml.safe_load(REQUIREMENTS.read_text())
    return [c["name"] for c in data["collections"]]


def install_requirements(dest: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Install requirements.yml's collections into ``dest`` offline; the second command's result."""
    local = [
        {"name": str(DEBIAN_COLLECTIONS.joinpath(*name.split("."))), "type": "dir"}
        for name in required_collections()
    ]
    local_file = tmp / "local-requirements.yml"
    local_file.write_text(json.dumps({"collections": local}))  # JSON is YAML
    galaxy = ["ansible-galaxy", "collection", "install", "--offline", "-p", str(dest), "-r"]
    subprocess.run(
        [*galaxy, str(local_file)], check=True, capture_output=True, env=env(tmp, dest), timeout=300
    )
    return subprocess.run(
        [*galaxy, str(REQUIREMENTS)], capture_output=True, text=True, env=env(tmp, dest), timeout=300
    )
