"""``sodav-collector``: serve, migrate, work, manage the fleet and the catalog, analyze, report.

Each domain that has commands exposes ``register(subparsers)`` in its ``cli`` module; this
file wires them, and runs the commands that compose several domains (serve, worker). Every
command that fails says what to do next and exits 2: a :class:`~collector.errors.CollectorError`
prints its message, a database that cannot be used says so.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import shared
from collector import analyze, upkeep
from collector.catalog import cli as catalog_cli
from collector.db.migrate import upgrade
from collector.errors import CollectorError, InvalidRequest
from collector.fleet import cli as fleet_cli
from collector.logs import configure as configure_logging
from collector.matching import cli as matching_cli
from collector.metrics import serve_worker_metrics
from collector.notify import cli as notify_cli
from collector.recognizers import cli as recognizers_cli
from collector.recognizers import unknowns_cli
from collector.reports import cli as reports_cli
from collector.settings import load
from collector.worker import run_worker
from shared.config import ConfigError

GRACEFUL_SHUTDOWN_S = 10


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # the web stack only for the command that serves

    from collector.app import create_app
    from collector.processes import serve_processes

    settings = load(args.config)
    if args.workers < 1:
        raise InvalidRequest(f"--workers {args.workers}: give 1 or more HTTP processes")
    if not args.no_migrate:
        upgrade(settings.database_url)
    options: dict[str, Any] = {
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "log_level": settings.log_level.lower(),
        "log_config": None,  # uvicorn's lines go through collector.logs, in the same format
        # open event streams never end by themselves: on SIGTERM, requests in flight get at
        # most this long (browsers reconnect to the next process by themselves)
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }
    if args.workers > 1:
        return serve_processes(settings, args.config, args.workers, options)
    uvicorn.run(create_app(settings), **options)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load(args.config)
    upgrade(settings.database_url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


def _worker(args: argparse.Namespace) -> int:
    settings = load(args.config)
    if not args.no_migrate:
        upgrade(settings.database_url)
    serve_worker_metrics(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_worker(settings, stop)
    return 0


def _database_hint(exc: Exception) -> str | None:
    """A database error a person can act on: not reachable, or not migrated yet."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    text = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return f"the database has no schema yet ({text}): run `sodav-collector db upgrade` first"
    if isinstance(exc, OperationalError):
        return (
            f"cannot use the database ({text}): check database_url "
            "(SODAV_COLLECTOR_DATABASE_URL) and that the server is running"
        )
    return None


def _logging(args: argparse.Namespace) -> None:
    """The configured level and format for every logger; the defaults if the configuration is
    broken (the command then says what is wrong)."""
    try:
        settings = load(args.config)
    except ConfigError:
        configure_logging()
        return
    configure_logging(settings.log_level, settings.log_format)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sodav-collector",
        description="SODAV Monitor central collector / collecteur central de SODAV Monitor.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {shared.__version__}")
    parser.add_argument(
        "--config", help="TOML file (default: $SODAV_COLLECTOR_CONFIG or /etc/sodav-collector/collector.toml)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (migrates the database first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-migrate", action="store_true", help="do not run migrations at start")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="HTTP processes on the one port (PostgreSQL only), with one matching worker beside them",
    )
    serve.set_defaults(func=_serve)

    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="apply Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)

    fleet_cli.register(sub)
    catalog_cli.register(sub)
    analyze.register(sub)
    worker = sub.add_parser(
        "worker",
        help="match uploaded segments and assemble plays, continuously (several on PostgreSQL)",
    )
    worker.add_argument("--no-migrate", action="store_true", help="do not run migrations at start")
    worker.set_defaults(func=_worker)
    matching_cli.register(sub)
    reports_cli.register(sub)
    notify_cli.register(sub)
    recognizers_cli.register(sub)
    unknowns_cli.register(sub)
    upkeep.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _logging(args)
    try:
        result: int = args.func(args)
        return result
    except (CollectorError, ConfigError) as exc:
        print(f"sodav-collector: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        hint = _database_hint(exc)
        if hint is None:
            raise
        print(f"sodav-collector: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
