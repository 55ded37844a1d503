"""`sodav-collector stations|agents|users` as an administrator types them, on both backends."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from collector.cli import main
from collector.fleet.service import Principal, authenticate


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """The real command-line entry point, in process (a subprocess per call is slow)."""

    def run(url: str, *args: str) -> Result:
        monkeypatch.setenv("SODAV_COLLECTOR_DATABASE_URL", url)
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def _token(out: str, label: str) -> str:
    line = next(x for x in out.splitlines() if x.startswith(label))
    return line.rsplit(" ", 1)[1]


def _who(url: str, token: str) -> Principal | str | None:
    engine = create_engine(url)
    with Session(engine) as s:
        result = authenticate(s, token)
        if isinstance(result, Principal) and result.agent is not None:
            result = sorted(st.slug for st in result.agent.stations)  # type: ignore[assignment]
        elif isinstance(result, Principal) and result.user is not None:
            result = result.user.name  # type: ignore[assignment]
    engine.dispose()
    return result


def test_fleet_commands_end_to_end(database_url: str, cli) -> None:  # type: ignore[no-untyped-def]
    url, _cli = database_url, cli
    assert _cli(url, "stations", "add", "rfm", "--name", "RFM Dakar", "--city", "Dakar").returncode == 0
    assert _cli(url, "stations", "add", "sud", "--name", "Sud FM").returncode == 0
    dup = _cli(url, "stations", "add", "rfm")
    assert dup.returncode != 0 and "already exists" in dup.stderr

    added = _cli(url, "agents", "add", "box1", "--stations", "rfm")
    assert added.returncode == 0, added.stderr
    assert "sodav-agent enroll" in added.stdout
    unknown = _cli(url, "agents", "add", "box2", "--stations", "nope")
    assert unknown.returncode != 0 and "sodav-collector stations add nope" in unknown.stderr

    moved = _cli(url, "agents", "stations", "box1", "--stations", "rfm,sud")
    assert moved.returncode == 0, moved.stderr
    listing = _cli(url, "agents", "list").stdout
    assert "box1" in listing and "rfm,sud" in listing
    assert _cli(url, "agents", "stations", "ghost", "--stations", "rfm").returncode != 0

    first = _token(_cli(url, "users", "add", "awa", "--role", "analyst").stdout, "API token")
    second = _token(_cli(url, "users", "token", "awa").stdout, "API token")
    assert _who(url, first) == "awa" and _who(url, second) == "awa"
    rotated = _cli(url, "users", "token", "awa", "--revoke-others")
    third = _token(rotated.stdout, "API token")
    assert "previous tokens revoked" in rotated.stdout
    assert _who(url, first) == "revoked" and _who(url, second) == "revoked" and _who(url, third) == "awa"
    assert "awa" in _cli(url, "users", "list").stdout
    assert _cli(url, "users", "token", "nobody").returncode != 0
