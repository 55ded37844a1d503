"""sd_notify over a real AF_UNIX datagram socket, as systemd listens on $NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent import sdnotify
from tests.support.agentproc import file_agent_config
from tests.support.audio import excerpt, track


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    try:
        yield sock
    finally:
        sock.close()


def _recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_ready_watchdog_status_stopping_reach_the_socket(notify_socket: socket.socket) -> None:
    assert sdnotify.ready()
    assert _recv(notify_socket) == "READY=1"
    assert sdnotify.watchdog()
    assert _recv(notify_socket) == "WATCHDOG=1"
    assert sdnotify.status("2 sources,\n14 segments queued")
    assert _recv(notify_socket) == "STATUS=2 sources, 14 segments queued"
    assert sdnotify.status("x" * 500)
    assert _recv(notify_socket) == "STATUS=" + "x" * 200
    assert sdnotify.stopping()
    assert _recv(notify_socket) == "STOPPING=1"


def test_abstract_socket_name(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"sodav-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        assert sdnotify.ready()
        assert _recv(sock) == "READY=1"
    finally:
        sock.close()


def test_without_systemd_nothing_is_sent_and_nothing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens.sock"))
    assert sdnotify.watchdog() is False  # the daemon never dies because systemd went away


def test_a_listener_that_does_not_read_never_blocks_the_daemon(
    notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdnotify, "SEND_TIMEOUT_S", 0.2)
    qlen = int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())
    sent = [sdnotify.watchdog() for _ in range(qlen + 3)]  # nobody reads: the queue fills up
    assert sent[0] is True and sent[-1] is False
    assert _recv(notify_socket) == "WATCHDOG=1"  # what was queued is intact


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    assert sdnotify.watchdog_interval() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert sdnotify.watchdog_interval() is None or os.getpid() == 1


@pytest.mark.slow
def test_the_daemon_notifies_ready_watchdog_status_and_stopping(
    notify_socket: socket.socket, tmp_path: Path
) -> None:
    audio = excerpt(track(0), tmp_path / "a.mp3", 0, 5)
    config = file_agent_config(tmp_path, audio, realtime=True)
    env = dict(os.environ, NOTIFY_SOCKET=os.environ["NOTIFY_SOCKET"], WATCHDOG_USEC="2000000")
    env.pop("WATCHDOG_PID", None)
    got: list[str] = []

    def listen() -> None:  # as systemd does: read while the daemon runs
        notify_socket.settimeout(1.0)
        while "STOPPING=1" not in got:
            try:
                got.append(_recv(notify_socket))
            except TimeoutError:
                if proc.poll() is not None:
                    return

    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "--config", str(config), "run"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener = threading.Thread(target=listen)
    listener.start()
    _, err = proc.communicate(timeout=60)
    listener.join(10)
    assert proc.returncode == 0, err
    assert "READY=1" in got
    assert got.count("WATCHDOG=1") >= 2  # every WatchdogSec/2 while running (5 s of audio)
    assert any(m.startswith("STATUS=1 sources, ") for m in got)
    assert got[-1] == "STOPPING=1"
    assert got.index("READY=1") < got.index("STOPPING=1")
