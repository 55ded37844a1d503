"""``sodav-agent run``: the daemon (systemd runs this)."""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import logging
import signal
import sys
import threading

from edge_agent.config import load
from edge_agent.disk import data_dir_ok, wait_for_room
from edge_agent.service import Service


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", help="override log_level (DEBUG, INFO, WARNING)")


def tune_malloc() -> None:
    """Keep glibc's heap small for a process that runs for months (measured in bench/agent).

    - One arena: glibc gives each thread that allocates its own malloc arena, and keeps what
      a thread freed in it. Stations take turns for their CPU work
      (edge_agent.capture.station.CPU_TURN), so one arena serves them without contention and
      their blocks are reused rather than held once per thread (~1.5 MB less, 4 stations).
    - Blocks of 64 KiB and more (a station's block of decoded audio) are mapped and unmapped
      on their own, and free memory at the top of the heap goes back past 128 KiB: glibc's
      default raises its mapping threshold to 32 MiB after the first large free and keeps
      such blocks in the heap (~1.5 MB less, 4 stations, same CPU).
    """
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return
    for option, value in ((-8, 1), (-3, 64 * 1024), (-1, 128 * 1024)):
        # M_ARENA_MAX, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD (glibc; other C libraries lack mallopt)
        mallopt(ctypes.c_int(option), ctypes.c_int(value))


def run(args: argparse.Namespace) -> int:
    tune_malloc()
    settings = load(args.config)
    level = (args.log_level or settings.log_level).upper()
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if level != "DEBUG":
        # httpx logs every request at INFO ('HTTP Request: POST ... "HTTP/1.1 200 OK"'): a line
        # per upload and heartbeat, which the agent's own lines already say better
        logging.getLogger("httpx").setLevel(logging.WARNING)
    if not settings.stations:
        print(
            "sodav-agent: no [[stations]] in the configuration; add one (see agent.example.toml)",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # said by data_dir_ok below
    if not wait_for_room(settings.data_dir, stop):
        return 0
    problem = data_dir_ok(settings.data_dir)
    if problem:
        print(f"sodav-agent: {problem}", file=sys.stderr)
        return 2
    service = Service(settings, stop)
    service.run_until_stopped()
    return 0
