"""The web app builds with the oldest Node.js ``./dev`` accepts: Debian 12's own (18.20).

``dev``'s NODE_MIN and ``web/package.json``'s engines say the same version, and every package
that runs in Node.js for the build (the lockfile's dev packages: Vite, Vitest, ESLint and what
they pull in) declares engines that admit it, so an upgrade that drops Node 18 (Vite 7,
typescript-eslint from 8.56) fails here instead of on a fresh Debian 12. Runtime libraries are
bundled for the browser: their engines (react-router's ``>=20``) do not matter to the build.
The build itself on Debian's node 18 was checked by hand (issue #14); NOT tested here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"


def node_min() -> str:
    found = re.search(r"^NODE_MIN=([\d.]+)$", (ROOT / "dev").read_text(), re.MULTILINE)
    assert found, "dev has no NODE_MIN"
    return found.group(1)


def test_dev_and_package_json_ask_for_the_same_node() -> None:
    engines = json.loads((WEB / "package.json").read_text())["engines"]["node"]
    assert engines == f">={node_min()}"
    # Debian 12 (bookworm) ships nodejs 18.20.4: ./dev setup builds with it
    assert [int(n) for n in node_min().split(".")] <= [18, 20, 4]


def test_every_build_package_runs_on_the_oldest_node_dev_accepts() -> None:
    if shutil.which("node") is None or not (WEB / "node_modules" / "semver").is_dir():
        pytest.skip("the web app's packages are not installed (./dev setup installs them)")
    packages = json.loads((WEB / "package-lock.json").read_text())["packages"]
    engines = {
        path.removeprefix("node_modules/"): meta["engines"]["node"]
        for path, meta in packages.items()
        if path and meta.get("dev") and isinstance(meta.get("engines"), dict) and "node" in meta["engines"]
    }
    assert "vite" in engines and "eslint" in engines, sorted(engines)[:20]
    script = (
        "const semver = require('semver');"
        "const [version, engines] = [process.argv[1], JSON.parse(process.argv[2])];"
        "const refused = Object.entries(engines).filter(([, range]) => !semver.satisfies(version, range));"
        "console.log(JSON.stringify(refused));"
    )
    result = subprocess.run(
        ["node", "-e", script, node_min() + ".0" * (2 - node_min().count(".")), json.dumps(engines)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == [], f"these need a newer Node.js than {node_min()}"
