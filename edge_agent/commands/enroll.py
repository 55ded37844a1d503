"""``sodav-agent enroll URL CODE``: trade a one-time enrollment code for this agent's token."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from edge_agent.client import collector_json, not_a_collector
from edge_agent.config import DEFAULT_CONFIG_PATH, ENV_PREFIX, AgentSettings, load
from edge_agent.errors import NotACollector
from shared.config import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="collector URL, e.g. https://collector.sodav.sn")
    parser.add_argument("code", help="the code printed by `sodav-collector agents add`")
    parser.add_argument("--token-file", help="where to save the token (default: DATA_DIR/token)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(args.config)
    except ConfigError:  # enrolling must work before the configuration is complete
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
    try:
        body = collector_json(resp)
        if resp.status_code == 200 and not isinstance(body.get("token"), str):
            raise NotACollector(not_a_collector(resp))
    except NotACollector as exc:
        print(f"sodav-agent: {exc}", file=sys.stderr)
        return 2
    if resp.status_code != 200:
        print(
            f"sodav-agent: enrollment refused ({resp.status_code}): {body.get('message', body)}",
            file=sys.stderr,
        )
        return 2
    path = Path(args.token_file) if args.token_file else settings.data_dir / "token"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body["token"] + "\n")
    os.chmod(path, 0o600)
    print(f"enrolled as agent {body['agent']} for stations {', '.join(body['stations'])}")
    print(f"token saved to {path} (mode 0600)")
    lines = [f'  name = "{body["agent"]}"', "  [collector]", f'  url = "{url}"']
    if _found_by_the_agent(path, settings, args.config):
        print("the agent finds the token there by itself: do not add a token_file line")
    else:
        lines.append(f'  token_file = "{path}"')
    print("add to the configuration if not there yet:")
    print("\n".join(lines))
    return 0


def _found_by_the_agent(path: Path, settings: AgentSettings, config: str | None) -> bool:
    """Is ``path`` where the agent looks for its token without a token_file line?"""
    places = [p for p, _ in settings.token_files()]
    named = config or os.environ.get(ENV_PREFIX + "CONFIG") or str(DEFAULT_CONFIG_PATH)
    places.append(Path(named).parent / "token")  # beside the configuration, even one not written yet
    return path.absolute() in {p.absolute() for p in places}
