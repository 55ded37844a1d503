"""``sodav-agent run``: the daemon (systemd runs this)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from edge_agent.config import load
from edge_agent.service import Service, data_dir_ok


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", help="override log_level (DEBUG, INFO, WARNING)")


def run(args: argparse.Namespace) -> int:
    settings = load(args.config)
    logging.basicConfig(
        level=(args.log_level or settings.log_level).upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    problem = data_dir_ok(settings.data_dir)
    if problem:
        print(f"sodav-agent: {problem}", file=sys.stderr)
        return 2
    if not settings.stations:
        print(
            "sodav-agent: no [[stations]] in the configuration; add one (see agent.example.toml)",
            file=sys.stderr,
        )
        return 2
    service = Service(settings)
    signal.signal(signal.SIGTERM, lambda *_: service.stop.set())
    signal.signal(signal.SIGINT, lambda *_: service.stop.set())
    service.run_until_stopped()
    return 0
