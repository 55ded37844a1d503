"""The alert rules and the Grafana dashboard in packaging/: promtool accepts the rules and their
unit tests pass; the dashboard is well-formed; and every metric a rule, a panel or the ops
guide names is one the collector or the agent really exports (no alert on a typo that never
fires, no empty panel).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from collector.db.engine import make_engine, make_sessionmaker
from collector.metrics import registry
from collector.settings import CollectorSettings
from edge_agent.buffer.outbox import OutboxStats
from edge_agent.metrics import PREFIX, Snapshot, families
from shared.schemas import SourceState, SourceStatusV1
from tests.support.scrape import Scrape

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS = ROOT / "packaging" / "prometheus"
RULES = PROMETHEUS / "sodav.rules.yml"
DASHBOARD = ROOT / "packaging" / "grafana" / "sodav-fleet.json"
DOCS = ROOT / "docs"
# what Prometheus and node_exporter provide themselves
EXTERNAL = {"up", "node_filesystem_avail_bytes", "node_filesystem_size_bytes"}
NAME = re.compile(r"\b(sodav_[a-z0-9_]+|node_[a-z0-9_]+|up)\b")


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: apt-get install prometheus (./dev setup installs it)")
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_unit_tests_pass() -> None:
    result = promtool("test", "rules", "sodav.rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def collector_names(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every name the collector's /metrics declares, from the real registry over a real database."""
    path = tmp_path_factory.mktemp("names") / "c.db"
    shutil.copyfile(sqlite_template, path)
    settings = CollectorSettings(environment="test", database_url=f"sqlite:///{path}")
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        text = generate_latest(registry(settings, lambda: sessions)).decode()
    finally:
        engine.dispose()
    names = Scrape(text).names()
    assert "sodav_database_up" in names and "sodav_uploads_total" in names
    return names


def agent_names() -> set[str]:
    stats = OutboxStats(0, 0, None, 0, [], None, 0, 0, 0)
    now = datetime.now(UTC)
    snapshot = Snapshot(
        "box", stats, [SourceStatusV1(station="s", state=SourceState.OK, since=now)], {"s": 0}, 0, 0, True
    )
    names = set()
    for family in families(snapshot):
        name = PREFIX + family.name
        names.add(name)
        if family.kind == "counter" and not name.endswith("_total"):
            names.add(name + "_total")
    return names


def _rule_texts() -> Iterator[tuple[str, str]]:
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            yield rule["alert"], " ".join([rule["expr"], *rule.get("annotations", {}).values()])


def _panels() -> list[dict[str, object]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels: list[dict[str, object]] = dashboard["panels"]
    return panels


def test_every_metric_the_rules_name_exists(collector_names: set[str]) -> None:
    known = collector_names | agent_names() | EXTERNAL
    unknown = {
        f"{alert}: {name}"
        for alert, text in _rule_texts()
        for name in NAME.findall(text)
        if name not in known
    }
    assert not unknown, f"rules name metrics nothing exports: {sorted(unknown)}"


def test_the_dashboard_is_well_formed_and_every_query_names_real_metrics(collector_names: set[str]) -> None:
    known = collector_names | agent_names() | EXTERNAL
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "sodav-fleet" and dashboard["title"]
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
    panels = _panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    unknown = []
    for panel in panels:
        pos = panel["gridPos"]
        assert isinstance(pos, dict) and pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {
            (x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & mine, f"panel {panel['title']!r} overlaps another"
        cells |= mine
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        targets = panel["targets"]
        assert isinstance(targets, list) and targets, f"panel {panel['title']!r} has no query"
        assert len({t["refId"] for t in targets}) == len(targets)
        for target in targets:
            unknown += [f"{panel['title']}: {n}" for n in NAME.findall(target["expr"]) if n not in known]
    assert not unknown, f"panels query metrics nothing exports: {unknown}"


@pytest.mark.parametrize("lang", ["md", "fr.md"])
def test_the_ops_guide_documents_every_collector_metric_and_nothing_else(
    collector_names: set[str], lang: str
) -> None:
    text = (DOCS / "ops" / f"metrics.{lang}").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(sodav_[a-z0-9_]+)", text, re.MULTILINE))
    # the collector scraped here has no Redis: its gauge is exported only with redis_url set
    # (tests/integration/collector/test_redis.py scrapes it)
    exported = {n for n in collector_names if n.startswith("sodav_")} | {"sodav_redis_up"}
    families_only = {n for n in exported if not re.search(r"_(bucket|count|sum|created)$", n)}
    families_only -= {n[: -len("_total")] for n in exported if n.endswith("_total")}
    assert documented <= exported, f"documented but not exported: {sorted(documented - exported)}"
    missing = sorted(n for n in families_only if n not in documented)
    assert not missing, f"exported but not in docs/ops/metrics.{lang}: {missing}"
