"""Fuzz the whole collector API from its OpenAPI description, with every role, on both databases.

For each database (an SQLite file; a throwaway PostgreSQL cluster from tests/fixtures/postgres.py,
or the server named by SODAV_TEST_POSTGRES_URL) one real ``sodav-collector serve`` process runs,
its matching worker on, seeded with three stations, catalog recordings and two months of plays
(tests/support/plays.py), an enrolled agent, an analyst and an admin. Then ``schemathesis run``
goes over ``/openapi.json`` once per role (admin, analyst, agent, no token): the examples,
coverage (boundary values: 2**63, empty strings, NUL characters…) and fuzzing phases, valid and
invalid data, with the check ``not_a_server_error``. The requests and their answers are counted
from the collector's own access log, so a 5xx is counted whoever caused it; a failed matching
cycle in the worker's log counts as a server error too. The run fails on any server error, and
prints the collector's log lines about it.

    .venv/bin/python -m bench.fuzz.run [--max-examples 100] [--seed 1]
    .venv/bin/python -m bench.fuzz.run --smoke    # a few hundred requests in all (CI)
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared.progress import Progress

# admin last: its fuzzing may revoke the other roles' tokens (DELETE /users/{name}/tokens …)
ROLES = ("none", "agent", "analyst", "admin")
# uvicorn's access lines, as the collector's log writes them (collector/logs.py)
ACCESS = re.compile(r'uvicorn\.access [\d.:]+ - "(\w+) (\S+) HTTP/[\d.]+" (\d{3})')
SERVER_TROUBLE = ("unexpected error on", "matching cycle failed", "Traceback")


@dataclass
class RoleResult:
    database: str
    role: str
    requests: int
    status: Counter[str]
    trouble: list[str]

    @property
    def server_errors(self) -> int:
        return self.status["5xx"] + len([t for t in self.trouble if "matching cycle failed" in t])


@contextlib.contextmanager
def databases(work: Path) -> Iterator[Iterator[tuple[str, str]]]:
    """(name, url) of a fresh SQLite file and a fresh PostgreSQL database."""
    from tests.fixtures.postgres import throwaway_cluster

    with throwaway_cluster() as server:
        import sqlalchemy as sa

        def each() -> Iterator[tuple[str, str]]:
            yield "sqlite", f"sqlite:///{work / 'fuzz.db'}"
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text("DROP DATABASE IF EXISTS sodav_fuzz"))
                conn.execute(sa.text("CREATE DATABASE sodav_fuzz"))
            admin.dispose()
            yield "postgresql", server.rsplit("/", 1)[0] + "/sodav_fuzz"

        yield each()


def seeded_collector(url: str, work: Path) -> tuple[object, dict[str, str]]:
    """A running collector on ``url`` with data to chew on, and a token per role."""
    from collector.db.session import transaction
    from tests.fixtures.collector import Collector
    from tests.support.plays import seed

    col = Collector(url, work, extra_env={"SODAV_COLLECTOR_WORKER__ENABLED": "true"})
    col.start(timeout=120)
    with transaction(col.tx) as s:
        seed(s)
    tokens = {
        "admin": col.add_user("fuzz-admin", "admin"),
        "analyst": col.add_user("fuzz-analyst", "analyst"),
        "agent": col.add_agent("fuzz-agent", ["rfm", "zik"]),
    }
    return col, tokens


def fuzz(url: str, token: str | None, args: argparse.Namespace, report: Path) -> int:
    """One schemathesis run over the whole API; its exit status."""
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        args.phases,
        "--mode",
        "all",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        "2",
        "--request-timeout",
        "120",
        "--suppress-health-check",
        "all",
        "--continue-on-failure",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if token:
        cmd += ["--header", f"Authorization: Bearer {token}"]
    with (report.with_suffix(".log")).open("w") as out:
        done = subprocess.run(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=report.parent, check=False, timeout=7200
        )
        return done.returncode


def count(log: str) -> tuple[int, Counter[str], list[str]]:
    """Requests, their answers by class (2xx, 4xx, 5xx) and the lines about server trouble."""
    status: Counter[str] = Counter()
    n = 0
    for _method, _path, code in ACCESS.findall(log):
        n += 1
        status[code[0] + "xx"] += 1
    trouble = [line for line in log.splitlines() if any(t in line for t in SERVER_TROUBLE)]
    return n, status, trouble


def run_database(
    name: str, url: str, work: Path, args: argparse.Namespace, bar: Progress
) -> list[RoleResult]:
    col, tokens = seeded_collector(url, work)
    results = []
    try:
        for role in args.roles.split(","):
            bar.step(f"{name}, {role}")
            before = len(col.log())  # type: ignore[attr-defined]
            status = fuzz(col.url, tokens.get(role), args, work / f"{name}-{role}.xml")  # type: ignore[attr-defined]
            time.sleep(1.5)  # the worker's cycle after the last upload
            n, codes, trouble = count(col.log()[before:])  # type: ignore[attr-defined]
            results.append(RoleResult(name, role, n, codes, trouble))
            if status not in (0, 1):  # 1: a check failed (counted from the log); else: it could not run
                tail = (work / f"{name}-{role}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"schemathesis could not run ({status}) for {name}/{role}:\n{tail}")
    finally:
        col.close()  # type: ignore[attr-defined]
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-examples", type=int, default=100, help="test cases per operation and phase")
    ap.add_argument("--phases", default="examples,coverage,fuzzing")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--roles", default=",".join(ROLES), help="comma-separated, among " + ", ".join(ROLES))
    ap.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--smoke", action="store_true", help="a few hundred requests in all (CI)")
    args = ap.parse_args()
    if args.smoke:
        # that it runs and finds the collector's answers: PostgreSQL (where a value past a column
        # is a server error) and the role that reaches every operation
        args.max_examples, args.phases, args.databases, args.roles = 1, "fuzzing", "postgresql", "admin"
    print(
        f"API fuzzing: schemathesis {version('schemathesis')} over /openapi.json, phases {args.phases}, "
        f"at most {args.max_examples} cases per operation and phase, seed {args.seed}, "
        "check not_a_server_error"
    )
    print(
        f"command: python -m bench.fuzz.run --max-examples {args.max_examples} --phases {args.phases} "
        f"--seed {args.seed} --databases {args.databases} --roles {args.roles}"
        + (" (--smoke)" if args.smoke else "")
    )
    t0 = time.monotonic()
    results: list[RoleResult] = []
    with tempfile.TemporaryDirectory(prefix="sodav-bench-fuzz-") as tmp:
        work = Path(tmp)
        bar = Progress("fuzzing", len(args.databases.split(",")) * len(args.roles.split(",")), " runs")
        with databases(work) as each:
            for name, url in each:
                if name not in args.databases.split(","):
                    continue
                (work / name).mkdir()
                results += run_database(name, url, work / name, args, bar)
        bar.done()
    print(f"\n{'database':<12}{'role':<9}{'requests':>10}{'2xx':>8}{'4xx':>8}{'server errors':>15}")
    for r in results:
        print(
            f"{r.database:<12}{r.role:<9}{r.requests:>10}{r.status['2xx']:>8}{r.status['4xx']:>8}"
            f"{r.server_errors:>15}"
        )
    total = sum(r.requests for r in results)
    errors = sum(r.server_errors for r in results)
    print(f"total: {total} requests, {errors} server errors, {time.monotonic() - t0:.0f} s")
    for r in results:
        for line in r.trouble[:20]:
            print(f"  {r.database}/{r.role}: {line}")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
