"""The user documentation keeps up with the code (in the spirit of sqlite-utils' test_docs.py).

A subcommand, an option, an error code or a configuration key added to the code and not to
the docs (English and French) fails here, naming what is missing and the page to fill.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from collector import cli as collector_cli
from collector.settings import CollectorSettings
from edge_agent import cli as agent_cli
from edge_agent.config import AgentSettings
from shared.schemas import ErrorCode

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LANGS = ("md", "fr.md")
BIN = Path(sys.executable).parent

# Pages other helpers write; a link to them may dangle until their branch is merged.
PENDING_PAGES: set[str] = set()


def _page(stem: str, lang: str) -> str:
    path = DOCS / f"{stem}.{lang}"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    return path.read_text(encoding="utf-8")


def _walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, list[str]]]:
    """Yield ("stations add", ["--name", ...]) for every leaf command of an argparse tree."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        options = [
            s
            for a in parser._actions
            if not isinstance(a, argparse._HelpAction)
            for s in a.option_strings
            if s.startswith("--")
        ]
        yield " ".join(prefix), options
        return
    for name, sub in subparsers[0].choices.items():
        yield from _walk(sub, (*prefix, name))


AGENT_COMMANDS = dict(_walk(agent_cli.build_parser()))
COLLECTOR_COMMANDS = dict(_walk(collector_cli.build_parser()))


# each program's subcommands and the page that must document them
COMMAND_PAGES = {
    "sodav-agent": ("technician/commands", AGENT_COMMANDS),
    "sodav-collector": ("ops/commands", COLLECTOR_COMMANDS),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("program", "command"),
    [(program, command) for program, (_, commands) in COMMAND_PAGES.items() for command in sorted(commands)],
)
def test_commands_and_options_are_documented(program: str, command: str, lang: str) -> None:
    page, commands = COMMAND_PAGES[program]
    text = _page(page, lang)
    assert f"{program} {command}" in text, f"`{program} {command}` is not in {page}.{lang}"
    for option in commands[command]:
        assert re.search(rf"{re.escape(option)}\b", text), (
            f"option {option} of `{program} {command}` is not in {page}.{lang}"
        )


def test_the_walk_sees_nested_commands() -> None:
    # guard against a walk that silently finds nothing
    assert {"run", "check", "enroll"} <= set(AGENT_COMMANDS)
    assert {"serve", "db upgrade", "stations add", "catalog import", "analyze"} <= set(COLLECTOR_COMMANDS)
    assert "--seconds" in AGENT_COMMANDS["check"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_error_codes_are_documented(code: ErrorCode, lang: str) -> None:
    text = _page("ops/api", lang)
    row = re.search(rf"^\|\s*{code.value}\s*\|\s*`{code.name}`\s*\|", text, re.MULTILINE)
    assert row, f"no table row `| {code.value} | `{code.name}` |` in ops/api.{lang}"


def _keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every configuration key, dotted: ``collector.url``, ``stations.slug``, ``worker.enabled``."""
    for name, field in model.model_fields.items():
        key = prefix + name
        annotation: Any = field.annotation
        inner = get_args(annotation)[0] if get_origin(annotation) is list else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _keys(inner, key + ".")
        else:
            yield key


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", sorted(_keys(AgentSettings)))
def test_agent_settings_are_documented(key: str, lang: str) -> None:
    text = _page("technician/configuration", lang)
    assert f"`{key}`" in text, f"agent setting `{key}` is not in technician/configuration.{lang}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", sorted(_keys(CollectorSettings)))
def test_collector_settings_are_documented(key: str, lang: str) -> None:
    text = _page("ops/collector", lang)
    assert f"`{key}`" in text, f"collector setting `{key}` is not in ops/collector.{lang}"


def test_every_guide_has_a_french_twin() -> None:
    pages = [p for d in ("technician", "ops", "analyst") for p in (DOCS / d).glob("*.md")]
    english = [p for p in pages if not p.name.endswith(".fr.md")]
    assert english
    missing = [str(p.relative_to(DOCS)) for p in english if not p.with_suffix(".fr.md").exists()]
    assert not missing, f"no French version of {missing}"


def test_relative_links_resolve() -> None:
    broken = []
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            resolved = (page.parent / target).resolve()
            if resolved.exists():
                continue
            rel = resolved.relative_to(DOCS.resolve()) if resolved.is_relative_to(DOCS.resolve()) else None
            if rel is not None and str(rel) in PENDING_PAGES:
                continue
            broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, "broken links: " + "; ".join(broken)


def test_index_links_every_guide_in_both_languages() -> None:
    index = _page("README", "md")
    pages = sorted(p for d in ("technician", "ops", "analyst") for p in (DOCS / d).glob("*.md"))
    missing = [str(p.relative_to(DOCS)) for p in pages if f"({p.relative_to(DOCS)})" not in index]
    assert not missing, f"docs/README.md does not link {missing}"


@pytest.mark.parametrize("program", ["sodav-agent", "sodav-collector"])
def test_console_scripts_run(program: str) -> None:
    script = BIN / program
    assert script.exists(), f"{script} is not installed: run ./dev setup"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert f"usage: {program}" in result.stdout


def test_readme_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start.*?$(.*?)^## ", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Quick start' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.MULTILINE | re.DOTALL)
    commands = [
        line.split("#", 1)[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert commands == ["./dev demo", "./dev test"]
