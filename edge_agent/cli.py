"""``sodav-agent``: the field technician's tool and the daemon.

Subcommands: run, check, devices, status, fingerprint, record, excerpt, enroll. Every failure
says what to do next and exits non-zero (2 for configuration problems).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import shared
from edge_agent.commands import check, devices, enroll, excerpt, fingerprint, record, run, status
from shared.config import ConfigError

# Each command module has ``add_arguments(parser)`` and ``run(args)``, and imports what only
# it needs (a sound-file library, PortAudio) inside ``run``: the daemon loads none of it.
COMMANDS = {
    "run": (run, "capture, fingerprint and upload (the daemon)"),
    "check": (check, "validate the config, test every source and the collector"),
    "devices": (devices, "list sound cards"),
    "status": (status, "queue depth, last upload, per-source state"),
    "fingerprint": (fingerprint, "fingerprint an audio file"),
    "record": (record, "record what the box hears from a station, as a WAV file"),
    "excerpt": (excerpt, "what a station aired between two times, as an audio file"),
    "enroll": (enroll, "exchange an enrollment code for this agent's token"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sodav-agent",
        description="SODAV Monitor edge agent / agent de terrain de SODAV Monitor.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {shared.__version__}")
    parser.add_argument(
        "--config", help="TOML file (default: $SODAV_AGENT_CONFIG or /etc/sodav-agent/agent.toml)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(func=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return result
    except ConfigError as exc:
        print(f"sodav-agent: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(
            f"sodav-agent: {exc.filename or 'a file'}: permission denied for this user; run it as root "
            f"(sudo sodav-agent {args.command} ...)",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # `sodav-agent status | head`: the reader has gone; say nothing more, as `cat` would.
        # stdout goes to /dev/null so that the interpreter's own flush at exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
