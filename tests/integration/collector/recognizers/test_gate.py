"""The gate: every request counted in the database, the daily budget, the breaker, the rate,
on PostgreSQL and SQLite; and ``sodav-collector recognizers status|test|reset`` as an
operator runs them, with the keys read from secret files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from collector.audio import decode_file
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.recognizers import gate
from collector.recognizers.models import RecognizerService
from collector.recognizers.outcomes import Named, NotFound, RetryLater, Stop
from collector.recognizers.service import Recognizers, status
from collector.settings import CollectorSettings
from shared.audio import AudioError
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm
from tests.fixtures.collector import free_port
from tests.integration.collector.recognizers.conftest import OFF_CATALOG
from tests.support.audio import track
from tests.support.recognizers_standin import References, Standin

TOKEN = "audd-file-token-5e2d"
KEY = "acoustid-file-key-c0de"


@pytest.fixture
def served(standin_refs: References) -> Iterator[Standin]:
    with Standin(standin_refs, audd_tokens={TOKEN}, acoustid_keys={KEY}) as s:
        yield s


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _secret(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def settings_for(
    standin: Standin, database_url: str, tmp_path: Path, **recognizers: object
) -> CollectorSettings:
    return CollectorSettings(
        environment="test",
        database_url=database_url,
        recognizers={
            "audd_url": standin.audd_url,
            "acoustid_url": standin.acoustid_url,
            "audd_token_file": _secret(tmp_path, "audd.token", TOKEN),
            "acoustid_key_file": _secret(tmp_path, "acoustid.key", KEY),
            **recognizers,
        },
    )


def _whole(path: Path) -> tuple[list[int], float]:
    pcm = decode_file(path)
    head = fingerprint_pcm(pcm[: 120 * CHROMAPRINT_RATE], CHROMAPRINT_RATE)
    return [int(v) for v in head], pcm.size / CHROMAPRINT_RATE


def test_requests_are_counted_by_outcome(
    served: Standin, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(served, database_url, tmp_path, audd_usd_per_1000=5000.0)
    values, duration = _whole(track(1))
    with Recognizers(settings, sessions) as rec:
        assert isinstance(rec.audd_recognize(track(0), 30), Named)
        assert isinstance(rec.audd_recognize(OFF_CATALOG, 30), NotFound)
        assert isinstance(rec.acoustid_lookup(values, duration), Named)
    with transaction(sessions) as s:
        states = {st.service: st for st in status(s, settings)}
    audd, acoustid = states["audd"], states["acoustid"]
    assert audd.today == {"named": 1, "not_found": 1}
    assert (audd.requests_today, audd.budget_left, audd.month_requests) == (2, 498, 2)
    assert audd.month_cost_usd == pytest.approx(10.0)
    assert acoustid.today == {"named": 1}
    assert not audd.breaker_open and audd.configured


def test_daily_budget_sends_nothing_more(
    served: Standin, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(served, database_url, tmp_path, audd_daily_budget=2)
    with Recognizers(settings, sessions) as rec:
        outcomes = [rec.audd_recognize(track(0), 30) for _ in range(3)]
    assert [o.kind for o in outcomes] == ["named", "named", "retry"]
    refused = outcomes[2]
    assert isinstance(refused, RetryLater) and not refused.sent and "audd_daily_budget" in refused.why
    assert refused.at is not None and refused.at > datetime.now(UTC)
    assert len(served.requests) == 2  # the third never left


def test_concurrent_workers_share_one_budget(
    served: Standin, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Four workers, each with its own clients and connections, asking at once: the budget holds."""
    settings = settings_for(served, database_url, tmp_path, audd_daily_budget=5)

    def worker() -> list[str]:
        with Recognizers(settings, sessions) as rec:
            return [rec.audd_recognize(track(0), 30).kind for _ in range(4)]

    with ThreadPoolExecutor(4) as pool:
        kinds = [k for batch in pool.map(lambda _: worker(), range(4)) for k in batch]
    assert sorted(kinds).count("named") == 5 and kinds.count("retry") == 11
    assert len(served.requests) == 5
    with transaction(sessions) as s:
        assert status(s, settings)[1].today == {"named": 5}


def test_stop_opens_the_breaker_until_reset(
    served: Standin, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(served, database_url, tmp_path)
    served.set_audd_quota(1)
    with Recognizers(settings, sessions) as rec:
        assert isinstance(rec.audd_recognize(track(0), 30), Named)
        quota = rec.audd_recognize(track(0), 30)
        assert isinstance(quota, Stop) and "902" in quota.why
        again = rec.audd_recognize(track(0), 30)  # from another worker, another process: same row
        assert isinstance(again, Stop) and "breaker open until" in again.why
        assert len(served.requests) == 2
        with transaction(sessions) as s:
            row = s.get(RecognizerService, "audd")
            assert row is not None and row.breaker_open_until is not None
            assert row.breaker_open_until - datetime.now(UTC) <= timedelta(days=1)
            assert row.breaker_open_until.hour == 0  # the next UTC day
            assert gate.reset(s, "audd")
        served.set_audd_quota(None)
        assert isinstance(rec.audd_recognize(track(0), 30), Named)
    with transaction(sessions) as s:
        audd = status(s, settings)[1]
    assert audd.today == {"named": 2, "stop": 1}  # the refusal by the open breaker is no request


def test_unreachable_and_unreadable_cost_nothing(
    served: Standin, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"no audio here")
    settings = settings_for(
        served, database_url, tmp_path, audd_daily_budget=1, audd_url=f"http://127.0.0.1:{free_port()}/"
    )
    with Recognizers(settings, sessions) as rec:
        for _ in range(3):
            outcome = rec.audd_recognize(track(0), 30)
            assert isinstance(outcome, RetryLater) and not outcome.sent
        with pytest.raises(AudioError):
            rec.audd_recognize(bad)
    with transaction(sessions) as s:
        audd = status(s, settings)[1]
    assert audd.today == {"unreachable": 3}
    assert (audd.requests_today, audd.budget_left) == (0, 1)


def test_acoustid_requests_take_rate_slots(
    served: Standin, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """At most 3 a second, counted across processes: each request takes the next 1/3 s slot."""
    settings = settings_for(served, database_url, tmp_path)
    values, duration = _whole(track(0))
    before = datetime.now(UTC)
    with Recognizers(settings, sessions) as rec:
        for _ in range(4):
            assert isinstance(rec.acoustid_lookup(values, duration), Named)
    with transaction(sessions) as s:
        row = s.get(RecognizerService, "acoustid")
        assert row is not None and row.next_slot_at is not None
        assert row.next_slot_at - before >= timedelta(seconds=4 / 3)
    assert not [r for r in served.requests if r.answer != "named"]


def _cli(settings: CollectorSettings, *args: str) -> subprocess.CompletedProcess[str]:
    rec = settings.recognizers
    env = dict(
        os.environ,
        SODAV_COLLECTOR_ENVIRONMENT="test",
        SODAV_COLLECTOR_DATABASE_URL=settings.database_url,
        SODAV_COLLECTOR_RECOGNIZERS__AUDD_URL=rec.audd_url,
        SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_URL=rec.acoustid_url,
        SODAV_COLLECTOR_RECOGNIZERS__AUDD_TOKEN_FILE=str(rec.audd_token_file),
        SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_KEY_FILE=str(rec.acoustid_key_file),
        SODAV_COLLECTOR_RECOGNIZERS__AUDD_USD_PER_1000="4.5",
    )
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", "recognizers", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_recognizers_commands(served: Standin, database_url: str, tmp_path: Path) -> None:
    settings = settings_for(served, database_url, tmp_path)
    test = _cli(settings, "test", str(track(0)))
    assert test.returncode == 0, test.stderr
    assert "AudD: named Aïssatou Fall - Dëgg La (album Dëgg La (Album), label Studio Xippi" in test.stdout
    assert "ISRC SNA1B2600001" in test.stdout
    assert "AcoustID: named Aïssatou Fall - Dëgg La" in test.stdout
    assert {r.service for r in served.requests} == {"audd", "acoustid"}
    served.fault("audd", "invalid_key")
    broken = _cli(settings, "test", str(track(1)), "--service", "audd", "--start", "40")
    assert broken.returncode == 1
    assert "AudD: stop: AudD error 900" in broken.stdout
    shown = _cli(settings, "status")
    assert shown.returncode == 0, shown.stderr
    lines = {
        line.split()[0]: line for line in shown.stdout.splitlines() if line.startswith(("audd", "acoustid"))
    }
    assert lines["acoustid"].split()[1:4] == ["on", "1", "4999/5000"]
    assert "STOPPED until" in lines["audd"] and "498/500" in lines["audd"]
    assert "$0.01 (at $4.5/1000)" in lines["audd"]
    assert "audd today: named 1, stop 1" in shown.stdout
    assert "sodav-collector recognizers reset audd" in shown.stdout
    reset = _cli(settings, "reset", "audd")
    assert reset.returncode == 0 and "audd: breaker closed" in reset.stdout
    assert "STOPPED" not in _cli(settings, "status").stdout
    for run in (test, broken, shown, reset):
        assert TOKEN not in run.stdout + run.stderr and KEY not in run.stdout + run.stderr


def test_test_command_says_what_to_set(database_url: str, tmp_path: Path) -> None:
    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=database_url, SODAV_COLLECTOR_ENVIRONMENT="test")
    run = subprocess.run(
        [sys.executable, "-m", "collector.cli", "recognizers", "test", str(track(0))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "recognizers.audd_token_file" in run.stderr and "Traceback" not in run.stderr
