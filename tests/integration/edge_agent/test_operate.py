"""Installing and operating a box as a technician does (issue #16, item 6): the Debian
layout's token, a normal user's `status`, `status | head`, a URL that is not a collector."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from collector.db.session import transaction
from collector.fleet.service import create_agent
from edge_agent.buffer.outbox import Outbox
from tests.fixtures.collector import Collector
from tests.fixtures.streams import free_port, wait_http
from tests.support.audio import excerpt, track

pytestmark = pytest.mark.slow


# root without capabilities is refused what a normal user is refused (the venv's Python may
# live in /root, where no other user can run it)
AS_A_USER = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--securebits=+noroot,+noroot_locked", "--"]


def agent(*args: str, as_a_user: bool = False, **kw: object) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "edge_agent.cli", *args]
    if as_a_user and os.geteuid() == 0:
        cmd = [*AS_A_USER, *cmd]
    return subprocess.run(cmd, text=True, timeout=90, **kw)  # type: ignore[call-overload,no-any-return]


def test_a_box_enrolled_the_debian_way_checks_its_token(collector: Collector, tmp_path: Path) -> None:
    """README.Debian: the token goes to /etc/sodav-agent/token, no token_file line; `check`
    run by the technician (as root) must find it, as systemd hands it to the daemon."""
    collector.add_station("rfm")
    with transaction(collector.tx) as s:
        _agent, code = create_agent(s, "box1", ["rfm"])
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "agent.toml"
    clip = excerpt(track(1), tmp_path / "clip.mp3", 0, 5)
    stations = f'[[stations]]\nslug = "rfm"\npath = "{clip}"\n'
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n{stations}')
    token = etc / "token"
    res = agent(
        "--config",
        str(config),
        "enroll",
        collector.url,
        code,
        "--token-file",
        str(token),
        capture_output=True,
    )
    assert res.returncode == 0, res.stderr
    assert "token_file" not in res.stdout.replace("do not add a token_file line", "")
    assert "the agent finds the token there by itself: do not add a token_file line" in res.stdout
    # what enroll says to add, and nothing else
    config.write_text(
        f'name = "box1"\ndata_dir = "{tmp_path / "data"}"\n[collector]\nurl = "{collector.url}"\n{stations}'
    )
    res = agent("--config", str(config), "check", "--seconds", "1", capture_output=True)
    assert "token accepted: agent box1, stations rfm" in res.stdout, res.stdout + res.stderr
    assert res.returncode == 0, res.stdout


def _outbox(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    Outbox(data / "outbox.sqlite").close()


def test_status_as_a_user_who_cannot_read_the_data_says_to_use_sudo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _outbox(data)
    config = tmp_path / "agent.toml"
    config.write_text(f'data_dir = "{data}"\n')
    # as the Debian package leaves it: the agent's own directory, 0750, not the technician's
    if os.geteuid() == 0:
        os.chown(data, pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
    data.chmod(0o750 if os.geteuid() == 0 else 0)
    try:
        res = agent("--config", str(config), "status", as_a_user=True, capture_output=True)
    finally:
        data.chmod(0o750)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert "permission denied for this user; run it as root (sudo sodav-agent status" in res.stderr


def test_status_into_a_pipe_closed_early_ends_quietly(tmp_path: Path) -> None:
    """`sodav-agent status | head`: head stops reading; no traceback."""
    data = tmp_path / "data"
    _outbox(data)
    config = tmp_path / "agent.toml"
    config.write_text(f'data_dir = "{data}"\n')
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the agent writes
    try:
        res = agent("--config", str(config), "status", stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert res.stderr == ""
    assert res.returncode == 141


def test_enroll_against_a_web_server_says_it_is_not_a_collector(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/")
        config = tmp_path / "agent.toml"
        config.write_text(f'data_dir = "{tmp_path / "data"}"\n[collector]\nurl = "{url}"\n')
        res = agent("--config", str(config), "enroll", url, "sde_x", capture_output=True)
        check = agent("--config", str(config), "check", capture_output=True)
    finally:
        server.kill()
        server.wait(10)
    assert res.returncode == 2
    assert f"{url} does not answer as a SODAV collector (HTTP 501, text/html)" in res.stderr
    assert "<" not in res.stderr and "nginx" not in res.stderr
    assert f"{url} does not answer as a SODAV collector (HTTP 404, text/html)" in check.stdout
    assert "<" not in check.stdout
