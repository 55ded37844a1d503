"""The system under load, started as ops run it, and the CPU each part of it spends.

A throwaway PostgreSQL cluster (tests/fixtures/postgres.py), a ``redis-server`` without
persistence, two ``sodav-collector serve`` processes on their own ports behind the ops
guide's nginx example (docs/ops/scaling.md, the file the test suite runs), and two
``sodav-collector worker`` processes; every collector process gets the same ``redis_url``.

CPU comes from /proc: a part's CPU seconds are those of its processes and of their children,
alive (``utime + stime``) or ended and waited for (the parent's ``cutime + cstime``), so the
PostgreSQL backends that come and go are counted in the postmaster's tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from tests.fixtures.collector import Collector, free_port, stop_process, worker_process
from tests.fixtures.nginx import NGINX, nginx_config, wait_answering
from tests.fixtures.postgres import throwaway_cluster
from tests.fixtures.redis import RedisServer

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds of ``pids``, their live descendants and their waited-for dead children."""
    kids = _children()
    total, todo, seen = 0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen or (fields := _stat(pid)) is None:
            continue
        seen.add(pid)
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        todo += kids.get(pid, [])
    return total / TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def _pid_listening(port: int, name: str) -> int:
    """The process named ``name`` whose command line has ``-p PORT`` (the postmaster)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and Path(cmd[0].decode()).name == name and f"-p {port}".encode() in b" ".join(cmd):
            return int(entry)
    raise RuntimeError(f"no {name} process with -p {port}")


@dataclass
class System:
    """The running parts: the URL the agents use, and the process ids of each part."""

    url: str  # nginx in front of the two serve processes
    database_url: str
    parts: dict[str, list[int]] = field(default_factory=dict)
    workdir: Path = Path(".")
    collectors: list[Collector] = field(default_factory=list)

    def cpu(self) -> dict[str, float]:
        return {name: tree_cpu(pids) for name, pids in self.parts.items()}

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("*/*.log")))


def _database(base_url: str, name: str) -> str:
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


def collector_cli(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "collector.cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if done.returncode:
        tail = done.stderr[-2000:].decode(errors="replace")
        raise SystemExit(f"sodav-collector {' '.join(args)} failed ({done.returncode}):\n{tail}")


@contextmanager
def running(workdir: Path, catalog_csv: Path, stations: int) -> Iterator[System]:
    """Everything started, the catalog imported; stopped at exit."""
    with ExitStack() as stack:
        base = stack.enter_context(throwaway_cluster())
        url = _database(base, "sodav_bench_load")
        redis = RedisServer(workdir / "redis")
        (workdir / "redis").mkdir()
        redis.start()
        stack.callback(redis.kill)
        env = {
            "SODAV_COLLECTOR_REDIS_URL": redis.url,
            "SODAV_COLLECTOR_LOG_LEVEL": "WARNING",
            "SODAV_COLLECTOR_DATABASE_URL": url,
            "SODAV_COLLECTOR_ENVIRONMENT": "test",
        }
        collector_cli(["db", "upgrade"], env)
        collector_cli(["catalog", "import", str(catalog_csv)], env)
        collectors = []
        for n in range(2):
            (workdir / f"serve{n}").mkdir()
            c = Collector(url, workdir / f"serve{n}", extra_env=dict(env))
            c.start(timeout=120)
            stack.callback(c.close)
            collectors.append(c)
        workers = []
        for n in range(2):
            (workdir / f"worker{n}").mkdir()
            w = worker_process(url, workdir / f"worker{n}" / "worker.log", env)
            stack.callback(stop_process, w)
            workers.append(w)
        listen = free_port()
        prefix = workdir / "nginx"
        conf = nginx_config(prefix, listen, (collectors[0].port, collectors[1].port), connections=4096)
        nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(prefix)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        stack.callback(stop_process, nginx)
        front = f"http://127.0.0.1:{listen}"
        wait_answering(front, prefix)
        port = int(base.rsplit(":", 1)[1].split("/", 1)[0])
        assert redis.proc is not None
        system = System(
            front,
            url,
            {
                "collectors (2 serve)": [c.proc.pid for c in collectors if c.proc],
                "workers (2)": [w.pid for w in workers],
                "PostgreSQL": [_pid_listening(port, "postgres")],
                "Redis": [redis.proc.pid],
                "nginx": [nginx.pid],
            },
            workdir,
            collectors,
        )
        yield system
