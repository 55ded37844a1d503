"""packaging/docker/Dockerfile, checked without a Docker engine (there is none here).

A small parser reads the instructions (continuations joined) and the test asserts what a
reviewer would: known instructions, the base image pinned by digest, COPY sources that exist in
the build context, a non-root USER before CMD, a HEALTHCHECK on /healthz, and `serve --host
0.0.0.0`. test_report_fonts.py renders a PDF with the fonts the runtime packages ship.
NOT tested: that the image builds and runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "packaging" / "docker" / "Dockerfile"
KNOWN = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def runtime_packages() -> list[str]:
    """The Debian packages the image's one ``apt-get install`` adds."""
    runs = [rest for keyword, rest in instructions() if keyword == "RUN" and "apt-get install" in rest]
    assert len(runs) == 1, runs
    words = runs[0].split("apt-get install", 1)[1].split("&&")[0].split()
    return [w for w in words if not w.startswith("-")]


def test_instructions_are_known_and_stages_are_sane() -> None:
    ins = instructions()
    assert {k for k, _ in ins} <= KNOWN
    assert [k for k, _ in ins[:3]] == ["ARG", "ARG", "FROM"]
    # the base by digest: a rebuild gets the same Debian and Python, not whatever the tag is now
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", ins[0][1])
    # the web app's Node stage by full version (the build needs 18.18 or newer; the image uses 20)
    assert re.fullmatch(r"NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?", ins[1][1])
    froms = [rest for k, rest in ins if k == "FROM"]
    assert len(froms) == 3 and froms[0].endswith(" AS web") and froms[1].endswith(" AS build")
    # the built web app reaches the package before pip installs it (package data)
    assert ("COPY", "--from=web /src/collector/web_dist ./collector/web_dist") in ins


def test_copy_sources_exist_in_the_build_context() -> None:
    for keyword, rest in instructions():
        if keyword != "COPY" or rest.startswith("--from="):
            continue
        *sources, _dest = rest.split()
        for src in sources:
            assert (ROOT / src).exists(), src
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().split()
    for needed in (
        "!pyproject.toml",
        "!shared/",
        "!edge_agent/",
        "!collector/",
        "!web/",
        "web/node_modules/",
    ):
        assert needed in ignore


def test_runs_as_non_root_with_a_healthcheck() -> None:
    ins = instructions()
    keywords = [k for k, _ in ins]
    user = [rest for k, rest in ins if k == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    assert keywords.index("USER") < keywords.index("CMD")
    health = dict(ins)["HEALTHCHECK"]
    assert "/healthz" in health and "CMD" in health
    cmd = json.loads(dict(ins)["CMD"])
    assert cmd[:4] == ["sodav-collector", "serve", "--host", "0.0.0.0"]
    # Chromaprint, and the PDF reports' font (test_report_fonts.py renders with what this
    # installs); no ffmpeg binary, which the collector never runs (PyAV decodes in process)
    assert runtime_packages() == ["libchromaprint1", "fonts-dejavu-core"]
    assert any('.[collector]"' in rest for k, rest in ins if k == "RUN")
