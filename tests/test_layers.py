"""The collector's rooms import only downward, and every module stays small and explicit.

The layers (DEVELOPERS.md, "The collector's layers"), from the top:

- composition: ``app``, ``cli``, ``worker``, ``analyze``, the model registry ``models``, the
  Alembic ``migrations``: they may import anything; nothing else imports them;
- domains, each a folder: reports → recognizers → plays → matching → ingest → notify → catalog
  → fleet;
  a domain imports only the domains to its right, and the ground;
- ground: ``db/``, ``errors``, ``settings``, ``fpmath``, ``musicness``, ``audio``, ``progress``, ``formats``,
  ``logs``, ``instruments``:
  they import only the ground.

No two rooms (folders, or top-level modules) import each other, directly or round a longer
loop; no module passes ``MAX_LINES``; no code imports by name at run time (``import_module``,
``__import__``), which hides a real dependency from readers and from this test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTOR = ROOT / "collector"
PACKAGES = ("collector", "edge_agent", "shared")
# left to right
DOMAINS = ("reports", "recognizers", "plays", "matching", "ingest", "notify", "catalog", "fleet")
GROUND = {"db", "errors", "settings", "fpmath", "musicness", "audio", "formats", "logs", "instruments", "kv"}
MAX_LINES = 450
DYNAMIC_IMPORT = re.compile(r"import_module|__import__")


@dataclass(frozen=True)
class Edge:
    source: str  # room that imports
    target: str  # room imported
    where: str  # path:line


def _layer(room: str) -> str:
    if room in GROUND:
        return "ground"
    if room in DOMAINS:
        return "domain"
    return "composition"


def _room(path: Path) -> str:
    """The room of a collector module: its folder below collector/, or the top-level module."""
    parts = path.relative_to(COLLECTOR).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imported_rooms(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(room, line) of every collector module the code imports, at any depth (functions too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "collector" and len(parts) > 1:
                    yield parts[1], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] != "collector":
                continue
            if len(parts) > 1:
                yield parts[1], node.lineno
            else:  # from collector import analyze
                for alias in node.names:
                    yield alias.name, node.lineno


def _collector_modules() -> list[Path]:
    return sorted(p for p in COLLECTOR.rglob("*.py") if p.name != "__init__.py" or p.stat().st_size)


def _edges() -> list[Edge]:
    edges = []
    for path in _collector_modules():
        source = _room(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target, line in _imported_rooms(tree):
            if target != source:
                edges.append(Edge(source, target, f"{path.relative_to(ROOT)}:{line}"))
    return edges


def _allowed(source: str, target: str) -> bool:
    layer, target_layer = _layer(source), _layer(target)
    if layer == "composition":
        return True
    if target_layer == "composition":
        return False
    if layer == "ground":
        return target_layer == "ground"
    return target_layer == "ground" or DOMAINS.index(target) > DOMAINS.index(source)


def test_rooms_import_only_downward() -> None:
    wrong = [
        f"{e.where}: {e.source} ({_layer(e.source)}) imports {e.target} ({_layer(e.target)})"
        for e in _edges()
        if not _allowed(e.source, e.target)
    ]
    assert not wrong, "imports against the layers (see this test's docstring):\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one room (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_two_rooms_import_each_other() -> None:
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for e in _edges():
        graph.setdefault(e.source, set()).add(e.target)
        where.setdefault((e.source, e.target), e.where)
    loops = []
    for component in _cycles(graph):
        links = [
            f"  {where[(a, b)]}: {a} imports {b}"
            for a in component
            for b in sorted(graph.get(a, ()))
            if b in component
        ]
        loops.append(f"{' / '.join(component)}:\n" + "\n".join(links))
    assert not loops, "rooms that import each other (round a loop):\n" + "\n".join(loops)


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_too_long(package: str) -> None:
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in _sources()
        if p.relative_to(ROOT).parts[0] == package
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, f"modules over {MAX_LINES} lines (one concept per module: split them):\n" + "\n".join(
        long
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_by_name_at_run_time(package: str) -> None:
    found = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in _sources()
        if p.relative_to(ROOT).parts[0] == package
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if DYNAMIC_IMPORT.search(line)
    ]
    assert not found, "import the module by its name in an import statement instead:\n" + "\n".join(found)


def test_every_domain_is_a_folder() -> None:
    missing = [d for d in DOMAINS if not (COLLECTOR / d / "__init__.py").exists()]
    assert not missing, f"domains without a folder: {missing}"
