"""``python -m tests.support.recognizers_standin --port N --catalog DIR``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from tests.support.recognizers_standin.references import References
from tests.support.recognizers_standin.server import Standin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.recognizers_standin",
        description="A local AudD and AcoustID that identify audio against DIR/catalog.csv.",
    )
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--catalog", type=Path, required=True, help="directory holding catalog.csv")
    parser.add_argument(
        "--audd-token", action="append", help="a valid AudD api_token (default audd-test-token)"
    )
    parser.add_argument(
        "--acoustid-key", action="append", help="a valid AcoustID client key (default acoustid-test-key)"
    )
    parser.add_argument("--audd-quota", type=int, help="AudD answers 902 after this many requests")
    parser.add_argument("--acoustid-rate", type=float, help="AcoustID answers 429 above this many requests/s")
    args = parser.parse_args(argv)
    refs = References.load(args.catalog)
    standin = Standin(
        refs,
        set(args.audd_token) if args.audd_token else None,
        set(args.acoustid_key) if args.acoustid_key else None,
        args.audd_quota,
        args.acoustid_rate,
        args.host,
        args.port,
    ).start()
    print(f"{len(refs.refs)} reference recordings", file=sys.stderr)
    print(f"recognizers.audd_url = {standin.audd_url!r}")
    print(f"recognizers.acoustid_url = {standin.acoustid_url!r}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
