"""``sodav-agent enroll URL CODE``: trade a one-time enrollment code for this agent's token."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from edge_agent.config import AgentSettings, load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="collector URL, e.g. https://collector.sodav.sn")
    parser.add_argument("code", help="the code printed by `sodav-collector agents add`")
    parser.add_argument("--token-file", help="where to save the token (default: DATA_DIR/token)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(args.config)
    except Exception:  # enrolling must work before the config is complete
        settings = AgentSettings()
    url = args.url.rstrip("/")
    try:
        resp = httpx.post(url + "/api/v1/enroll", json={"code": args.code}, timeout=30)
    except httpx.HTTPError as exc:
        print(
            f"sodav-agent: collector unreachable at {url} ({exc}); check the URL and the network",
            file=sys.stderr,
        )
        return 2
    if resp.status_code != 200:
        try:
            message = resp.json().get("message", resp.text)
        except ValueError:
            message = resp.text
        print(f"sodav-agent: enrollment refused ({resp.status_code}): {message}", file=sys.stderr)
        return 2
    body = resp.json()
    path = Path(args.token_file) if args.token_file else settings.data_dir / "token"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body["token"] + "\n")
    os.chmod(path, 0o600)
    print(f"enrolled as agent {body['agent']} for stations {', '.join(body['stations'])}")
    print(f"token saved to {path} (mode 0600)")
    print("add to the configuration if not there yet:")
    print(f'  name = "{body["agent"]}"\n  [collector]\n  url = "{url}"\n  token_file = "{path}"')
    return 0
