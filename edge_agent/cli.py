"""``sodav-agent``: the field technician's tool and the daemon.

Subcommands: run, check, devices, status, fingerprint, excerpt, enroll. Every failure says what
to do next and exits non-zero (2 for configuration problems).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

import shared
from shared.config import ConfigError

# command name -> (module, help). Each module exposes ``add_arguments(parser)`` and ``run(args)``.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("edge_agent.commands.run", "capture, fingerprint and upload (the daemon)"),
    "check": ("edge_agent.commands.check", "validate the config, test every source and the collector"),
    "devices": ("edge_agent.commands.devices", "list sound cards"),
    "status": ("edge_agent.commands.status", "queue depth, last upload, per-source state"),
    "fingerprint": ("edge_agent.commands.fingerprint", "fingerprint an audio file"),
    "excerpt": ("edge_agent.commands.excerpt", "what a station aired between two times, as an audio file"),
    "enroll": ("edge_agent.commands.enroll", "exchange an enrollment code for this agent's token"),
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
    for name, (module_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            cmd.set_defaults(func=_not_yet(name))
            continue
        module.add_arguments(cmd)
        cmd.set_defaults(func=module.run)
    return parser


def _not_yet(name: str) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        print(f"sodav-agent {name}: not available in this version", file=sys.stderr)
        return 2

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except ConfigError as exc:
        print(f"sodav-agent: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
