"""The Ansible roles in ansible/, run for real on this machine (syntax and lint: test_ansible_checks.py).

The roles run for real against localhost (``ansible_connection=local``) into a sandbox: every
path they write is prefixed with ``*_destdir`` (like DESTDIR), so /etc, /opt and /var/lib of the
test machine are untouched. Each play runs twice; the second run must change nothing.

What runs for real: the roles copy the project's wheel (built by `./dev wheel` once per session)
from the "controller" and pip installs it with its extra into a fresh virtualenv, the templates
are validated by the agent's and the collector's own config loaders, `sodav-agent enroll`
trades a real one-time code at a real collector (SQLite) for a token, and `sodav-collector db
upgrade` migrates a real PostgreSQL database. Ansible sees only ansible-core and the collections
of ansible/requirements.yml (tests/support/ansible.py).
What is switched off (and so NOT tested here): apt (``*_manage_packages``), creating system users
(``*_create_user``; files belong to root instead), and systemd (``*_manage_service``; systemd is
not PID 1 here). The postgresql role needs python3-psycopg2 for community.postgresql; its real
run is skipped when that is missing. The .deb install method is only syntax-checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from collector.db.session import transaction
from collector.fleet import service
from tests.fixtures.collector import Collector
from tests.support import ansible
from tests.support.ansible import ROOT

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible not installed")


def _run_role(
    tmp: Path, role: str, variables: dict[str, object], *extra: str, collections: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``role`` on localhost with ``variables``, whatever the outcome."""
    playbook = tmp / f"{role}-play.yml"
    playbook.write_text(f"- hosts: all\n  gather_facts: true\n  roles: [{role}]\n")
    varfile = tmp / f"{role}-vars.json"
    varfile.write_text(json.dumps(variables))
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"@{varfile}",
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
            "-v",
            *extra,
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=ansible.env(tmp, collections),
        timeout=600,
    )


def _play(
    tmp: Path, role: str, variables: dict[str, object], *extra: str, collections: Path | None = None
) -> tuple[int, str]:
    """Run ``role`` on localhost; return (changed count from PLAY RECAP, output)."""
    result = _run_role(tmp, role, variables, *extra, collections=collections)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    recap = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", out)
    assert recap, out[-3000:]
    return int(recap.group(1)), out


def _changed_tasks(out: str) -> list[str]:
    """The changed tasks with their result (the plays run with -v)."""
    tasks, current = [], ""
    for line in out.splitlines():
        if line.startswith("TASK ["):
            current = line
        elif line.startswith("changed:"):
            tasks.append(current + "\n" + line[:3000])
    return tasks


# --- real runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def enrollment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Collector, str]]:
    workdir = tmp_path_factory.mktemp("collector")
    col = Collector(f"sqlite:///{workdir / 'collector.db'}", workdir)
    col.start()
    try:
        col.add_station("rfm-dakar")
        with transaction(col.tx) as s:
            _agent, code = service.create_agent(s, "ansible-box", ["rfm-dakar"])
        yield col, code
    finally:
        col.close()


def _python() -> str:
    """The interpreter the sandbox virtualenvs are built from: the one running the tests."""
    return str(Path(sys._base_executable).resolve())  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_edge_agent_role_installs_enrolls_and_is_idempotent(
    tmp_path: Path, wheel: Path, enrollment: tuple[Collector, str]
) -> None:
    col, code = enrollment
    root = tmp_path / "root"
    variables = {
        "edge_agent_destdir": str(root),
        "edge_agent_python": _python(),
        "edge_agent_wheel_file": str(wheel),
        "edge_agent_manage_packages": False,
        "edge_agent_create_user": False,
        "edge_agent_manage_service": False,
        "edge_agent_user": "root",
        "edge_agent_group": "root",
        "edge_agent_name": "ansible-box",
        "edge_agent_collector_url": col.url,
        "edge_agent_enrollment_code": code,
        "edge_agent_stations": [
            {"slug": "rfm-dakar", "name": 'RFM "Dakar" é', "url": "http://127.0.0.1:9/rfm.mp3"},
            {"slug": "zik-fm", "device": "USB Audio", "channel": 1, "rate_variants_ppm": [-20000, 0, 20000]},
        ],
        "edge_agent_settings": {"buffer": {"disk_budget_mb": 100}, "collector": {"timeout_s": 10}},
        "edge_agent_service_overrides": {"MemoryMax": "1G"},
    }
    changed, out = _play(tmp_path, "edge_agent", variables)
    assert changed > 0
    assert code not in out  # no_log on the enrollment

    venv = root / "opt/sodav-agent"
    config = root / "etc/sodav-agent/agent.toml"
    token = root / "etc/sodav-agent/token"
    # the agent's own loader accepts the templated file, stations as given
    check = subprocess.run(
        [
            str(venv / "bin/python"),
            "-c",
            "import sys, json; from edge_agent.config import load; s = load(sys.argv[1]);"
            "print(json.dumps(s.model_dump(mode='json')))",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    settings = json.loads(check.stdout)
    assert settings["name"] == "ansible-box"
    assert settings["data_dir"] == "/var/lib/sodav-agent"  # runtime path, not the sandbox
    assert [s["slug"] for s in settings["stations"]] == ["rfm-dakar", "zik-fm"]
    assert settings["stations"][0]["name"] == 'RFM "Dakar" é'
    assert settings["stations"][1]["rate_variants_ppm"] == [-20000, 0, 20000]
    assert settings["buffer"]["disk_budget_mb"] == 100
    assert settings["collector"]["token_file"] is None  # the token comes as a credential
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    # the enrolled token: root-only, and the collector knows it
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    with col.session() as s:
        principal = service.authenticate(s, token.read_text().strip())
    assert principal is not None and not isinstance(principal, str)
    unit = root / "etc/systemd/system/sodav-agent.service"
    assert unit.read_text() == (ROOT / "packaging/systemd/sodav-agent.service").read_text()
    dropin = (root / "etc/systemd/system/sodav-agent.service.d/ansible.conf").read_text()
    assert "ExecStart=/opt/sodav-agent/bin/sodav-agent --config /etc/sodav-agent/agent.toml run" in dropin
    assert "MemoryMax=1G" in dropin
    assert os.readlink(root / "usr/local/bin/sodav-agent") == "/opt/sodav-agent/bin/sodav-agent"

    assert (root / "var/cache/sodav-monitor" / wheel.name).read_bytes() == wheel.read_bytes()
    version = subprocess.run(
        [str(venv / "bin/sodav-agent"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"sodav-agent {_project_version()}"

    changed, out = _play(tmp_path, "edge_agent", variables)
    assert changed == 0, _changed_tasks(out)
    # --check: ansible's pip module cannot tell whether a *wheel path* is installed without
    # installing it, so it reports that one task changed. Nothing else may change.
    changed, out = _play(tmp_path, "edge_agent", variables, "--check", "--diff")
    assert [t.splitlines()[0] for t in _changed_tasks(out)] == [
        "TASK [edge_agent : Install sodav-monitor[agent] into the virtualenv] ***********"
    ]
    # a wheel rebuilt at the same version (a later commit) is reinstalled, then all is quiet
    variables["edge_agent_wheel_file"] = str(_rebuilt(wheel, tmp_path / "rebuilt"))
    changed, out = _play(tmp_path, "edge_agent", variables)
    assert [t.splitlines()[0].split(" ***")[0] for t in _changed_tasks(out)] == [
        "TASK [edge_agent : Copy the wheel from the controller]",
        "TASK [edge_agent : Reinstall the project when its wheel changed but not its version]",
    ]
    changed, out = _play(tmp_path, "edge_agent", variables)
    assert changed == 0, _changed_tasks(out)


def _project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        version: str = tomllib.load(fh)["project"]["version"]
    return version


def _rebuilt(wheel: Path, directory: Path) -> Path:
    """The same wheel with other file times: what `./dev wheel` gives at a later commit."""
    directory.mkdir()
    out = directory / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            info.date_time = (2030, 1, 1, 0, 0, 0)
            dst.writestr(info, data)
    return out


@pytest.mark.parametrize("role", ["edge_agent", "collector"])
def test_roles_without_the_wheel_say_how_to_build_it(tmp_path: Path, role: str) -> None:
    """The defaults install the wheel from the repository's dist/, never a name from PyPI."""
    variables: dict[str, object] = {
        "edge_agent_destdir": str(tmp_path / "root"),
        "edge_agent_collector_url": "http://127.0.0.1:9",
        "edge_agent_stations": [{"slug": "rfm-dakar", "url": "http://127.0.0.1:9/a.mp3"}],
        "collector_destdir": str(tmp_path / "root"),
        "collector_database_engine": "sqlite",
    }
    result = _run_role(tmp_path, role, variables)
    assert result.returncode != 0
    wheel = f"{tmp_path}/../dist/sodav_monitor-{_project_version()}-py3-none-any.whl"
    expected = f"no wheel at {wheel}: run `./dev wheel`"
    assert expected in " ".join(result.stdout.split())
    assert not (tmp_path / "root").exists()  # stopped before installing anything


def test_edge_agent_preflight_names_the_bad_station(tmp_path: Path) -> None:
    variables: dict[str, object] = {
        "edge_agent_destdir": str(tmp_path / "root"),
        "edge_agent_collector_url": "http://127.0.0.1:9",
        "edge_agent_stations": [{"slug": "rfm-dakar", "url": "http://x/a.mp3", "device": "hw:1"}],
    }
    result = _run_role(tmp_path, "edge_agent", variables)
    assert result.returncode != 0
    assert "exactly one of url, device or path" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_collector_role_migrates_postgresql_and_is_idempotent(
    tmp_path: Path, wheel: Path, postgres_server: str
) -> None:
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS sodav_ansible"))
        conn.execute(text("CREATE DATABASE sodav_ansible"))
    admin.dispose()
    url = make_url(postgres_server).set(database="sodav_ansible", drivername="postgresql")
    root = tmp_path / "root"
    variables = {
        "collector_destdir": str(root),
        "collector_python": _python(),
        "collector_wheel_file": str(wheel),
        "collector_manage_packages": False,
        "collector_create_user": False,
        "collector_manage_service": False,
        "collector_user": "root",
        "collector_group": "root",
        "collector_public_url": "https://collector.example.sn",
        "collector_database_url": url.render_as_string(hide_password=True),
        "collector_database_password": "pg:pass\\word-not-used-by-trust",
        "collector_acoustid_key": "acoustid-test-key",
        "collector_worker_separate": True,
    }
    changed, out = _play(tmp_path, "collector", variables)
    assert changed > 0
    assert "acoustid-test-key" not in out and "pass\\word" not in out
    config_dir = root / "etc/sodav-collector"
    config = tomllib.loads((config_dir / "collector.toml").read_text())
    assert config["worker"]["enabled"] is False
    assert config["recognizers"]["acoustid_key_file"] == "acoustid-key"
    assert "pass" not in config["database_url"]
    pgpass = config_dir / "pgpass"
    assert stat.S_IMODE(pgpass.stat().st_mode) == 0o600
    assert pgpass.read_text().endswith(":postgres:pg\\:pass\\\\word-not-used-by-trust\n")
    dropin = (root / "etc/systemd/system/sodav-collector.service.d/ansible.conf").read_text()
    assert "LoadCredential=pgpass:/etc/sodav-collector/pgpass" in dropin
    assert "Environment=PGPASSFILE=%d/pgpass" in dropin
    worker_dropin = (root / "etc/systemd/system/sodav-collector-worker.service.d/ansible.conf").read_text()
    assert "collector.toml worker" in worker_dropin
    # the migration task ran against the real database
    engine = create_engine(make_url(postgres_server).set(database="sodav_ansible"))
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "agents", "segments"} <= tables
    version = subprocess.run(
        [str(root / "opt/sodav-collector/bin/sodav-collector"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == f"sodav-collector {_project_version()}"

    changed, out = _play(tmp_path, "collector", variables)
    assert changed == 0, _changed_tasks(out)


@pytest.mark.timeout(600)
def test_postgresql_role(tmp_path: Path, postgres_server: str, ansible_collections: Path) -> None:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import psycopg2"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("python3-psycopg2 not installed: community.postgresql cannot run here")
    url = make_url(postgres_server)
    variables = {
        "postgresql_manage_packages": False,
        "postgresql_manage_service": False,
        "postgresql_config_dir": str(tmp_path / "conf"),
        "postgresql_login_host": url.host,
        "postgresql_login_unix_socket": "",
        "postgresql_port": url.port,
        "postgresql_login_user": url.username,
        "postgresql_become_user": "root",
        "postgresql_db_name": "sodav_role",
        "postgresql_db_user": "sodav_role",
        "postgresql_db_password": "a-long-test-password",
    }
    (tmp_path / "conf/conf.d").mkdir(parents=True)
    (tmp_path / "conf/pg_hba.conf").write_text("local all postgres peer\n")
    changed, _out = _play(tmp_path, "postgresql", variables, collections=ansible_collections)
    assert changed > 0
    hba = (tmp_path / "conf/pg_hba.conf").read_text()
    assert "sodav_role" in hba and "scram-sha-256" in hba
    changed, out = _play(tmp_path, "postgresql", variables, collections=ansible_collections)
    assert changed == 0, _changed_tasks(out)
