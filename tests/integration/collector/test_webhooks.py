"""Webhooks end to end: a real worker cycle makes a final play, the outbox row is committed with
it, the delivery thread's cycle POSTs it to a real HTTP receiver, and the guide's own
verification function accepts it. Failures are retried, given up, replayed; a dead receiver
costs one timeout per cycle. On PostgreSQL and SQLite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from collector import worker
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.fleet import service as fleet
from collector.notify import events, service
from collector.notify.delivery import Deliverer, backoff
from collector.notify.models import Delivery
from collector.plays.models import Play
from collector.settings import CollectorSettings, NotifySettings
from shared.schemas import SourceState, SourceStatusV1
from tests.support.broadcast import air_one_song
from tests.support.docblocks import example
from tests.support.receiver import Receiver


@pytest.fixture
def db(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def settings_for(database_url: str, tmp_path: Path, **notify: Any) -> CollectorSettings:
    return CollectorSettings(
        environment="test",
        database_url=database_url,
        report_dir=tmp_path / "reports",
        notify=NotifySettings(**notify),
    )


def verify() -> Callable[..., bool]:
    """The receiver's check, exactly as docs/ops/notifications.md shows it."""
    scope: dict[str, Any] = {}
    exec(compile(example("ops/notifications", "webhook-verify"), "notifications.md", "exec"), scope)  # noqa: S102
    fn: Callable[..., bool] = scope["verify"]
    return fn


def one_cycle(db: sessionmaker[Session], settings: CollectorSettings) -> int:
    """One cycle of the delivery thread; returns the deliveries attempted."""
    deliverer = Deliverer(settings, read_file=lambda name: b"")
    try:
        return deliverer.tick(db)
    finally:
        deliverer.close()


def deliveries(db: sessionmaker[Session]) -> list[Delivery]:
    with db() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def due_now(db: sessionmaker[Session]) -> None:
    """Bring every pending delivery's next attempt to now (instead of waiting out the backoff)."""
    with transaction(db) as s:
        s.execute(
            update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=datetime.now(UTC))
        )


def test_a_final_play_is_posted_signed_and_the_guides_check_accepts_it(
    db: sessionmaker[Session], database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    with transaction(db) as s:
        aired = air_one_song(s)
        _hook, secret = service.create_webhook(s, receiver.url, ["play.final"], description="ERP")
        service.create_webhook(s, receiver.url + "?other", ["play.final"], stations=[aired.station.slug])
        fleet.create_station(s, "zik-fm")
        service.create_webhook(s, receiver.url + "?zik", ["play.final"], stations=["zik-fm"])

    settings = CollectorSettings(database_url=database_url, environment="test")
    _catalog, done = worker.run_once(db, None, settings)  # the worker's own cycle
    assert done == aired.segments
    with db() as s:
        play = s.scalars(select(Play)).one()
        assert play.status == "final"
    queued = deliveries(db)
    assert [d.status for d in queued] == ["pending", "pending"]  # committed with the play; not zik-fm's
    assert queued[0].event_id == queued[1].event_id

    assert one_cycle(db, settings_for(database_url, tmp_path)) == 2
    assert [d.status for d in deliveries(db)] == ["delivered", "delivered"]
    got = receiver.received[0]
    body = json.loads(got.body)
    assert body["type"] == "play.final" and got.headers["X-Sodav-Event"] == "play.final"
    assert got.headers["X-Sodav-Event-Id"] == body["id"]
    data = body["data"]
    assert data["station"] == "rfm-dakar" and data["play_id"] == play.id
    assert data["recording"] == {
        "external_id": "SOD-0005",
        "title": "Dakar la nuit",
        "artist": "Les Étoiles",
        "isrc": "SNA012600002",
        "iswc": None,
        "album": None,
        "label": None,
        "duration_s": 180.0,
    }
    assert abs(datetime.fromisoformat(data["start"].replace("Z", "+00:00")) - play.start) < timedelta(
        milliseconds=1
    )

    check = verify()
    assert check(secret, got.headers, got.body)
    assert not check("whsec_wrong", got.headers, got.body)
    assert not check(secret, got.headers, got.body.replace(b"rfm-dakar", b"rfm-dakaR"))
    old = {**dict(got.headers.items()), "X-Sodav-Timestamp": str(int(time.time()) - 600)}
    assert not check(secret, old, got.body)


def test_a_failing_receiver_is_retried_with_backoff_given_up_then_replayed(
    db: sessionmaker[Session], database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.answers = [500, 503, 502]
    with transaction(db) as s:
        hook, _secret = service.create_webhook(s, receiver.url, ["station.state"])
        service.ping(s, hook.id)
    deliverer = Deliverer(settings_for(database_url, tmp_path, max_attempts=3), read_file=lambda n: b"")
    try:
        before = datetime.now(UTC)
        deliverer.tick(db)
        (row,) = deliveries(db)
        assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
        assert row.last_error == "HTTP 500: ok"
        assert row.next_attempt_at >= before + timedelta(seconds=15)  # half of the first 30 s step
        assert deliverer.tick(db) == 0  # not due yet
        for expected in (2, 3):
            due_now(db)
            deliverer.tick(db)
            assert deliveries(db)[0].attempts == expected
        (row,) = deliveries(db)
        assert (row.status, row.last_status) == ("failed", 502)

        with transaction(db) as s:
            assert service.replay(s, status="failed") == 1
        deliverer.tick(db)
    finally:
        deliverer.close()
    (row,) = deliveries(db)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    ids = {r.headers["X-Sodav-Event-Id"] for r in receiver.received}
    assert len(receiver.received) == 4 and len(ids) == 1  # four attempts of one event


def test_a_dead_receiver_costs_one_timeout_per_cycle_and_others_still_get_theirs(
    db: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    dead, alive = Receiver(answers=["hang"] * 5), Receiver()
    try:
        with transaction(db) as s:
            slow, _ = service.create_webhook(s, dead.url, ["play.final"])
            fine, _ = service.create_webhook(s, alive.url, ["play.final"])
            for _ in range(3):
                service.ping(s, slow.id)
            service.ping(s, fine.id)
        # one attempt at the dead receiver, one at the live one
        assert one_cycle(db, settings_for(database_url, tmp_path, timeout_s=0.5)) == 2
        rows = deliveries(db)
        assert [(r.webhook_id, r.status, r.attempts) for r in rows] == [
            (slow.id, "pending", 1),
            (slow.id, "pending", 0),
            (slow.id, "pending", 0),
            (fine.id, "delivered", 1),
        ]
        assert rows[0].last_error is not None and "no answer in time" in rows[0].last_error
        assert all(r.locked_until is None for r in rows)  # the skipped ones are free for the next cycle
    finally:
        dead.close()
        alive.close()


def test_station_state_changes_are_announced_once_each(
    db: sessionmaker[Session], receiver: Receiver, database_url: str, tmp_path: Path
) -> None:
    offline = timedelta(minutes=5)
    with transaction(db) as s:
        station = fleet.create_station(s, "rfm-dakar", "RFM Dakar")
        agent, _code = fleet.create_agent(s, "dakar-01", ["rfm-dakar"])
        service.create_webhook(s, receiver.url, ["station.state"])
        assert events.watch_stations(s, offline) == 0  # first sight: recorded, not announced
    now = datetime.now(UTC)
    with transaction(db) as s:
        source = SourceStatusV1(station="rfm-dakar", state=SourceState.OK, since=now, level_dbfs=-14.0)
        fleet.agent_heard(s, s.merge(agent), "0.1.0", [source], {"rfm-dakar": station.id}, now)
    with transaction(db) as s:
        assert events.watch_stations(s, offline, now) == 1
        assert events.watch_stations(s, offline, now) == 0
        assert events.watch_stations(s, offline, now + offline + timedelta(seconds=1)) == 1
    one_cycle(db, settings_for(database_url, tmp_path))
    states = [json.loads(r.body)["data"] for r in receiver.received]
    # the cycle itself looks at the real time, when the agent is back within its heartbeat delay
    assert [(d["previous"], d["state"]) for d in states] == [
        ("never_seen", "online"),
        ("online", "agent_offline"),
        ("agent_offline", "online"),
    ]
    assert states[0]["station"] == "rfm-dakar" and states[0]["level_dbfs"] == -14.0


def test_bad_subscriptions_are_refused_with_what_to_do(db: sessionmaker[Session]) -> None:
    with transaction(db) as s:
        for args, message in [
            (("ftp://x/y", ["play.final"]), "not an http(s) URL"),
            (("https://x/y", ["play.started"]), "events must be among play.final, station.state"),
            (("https://x/y", ["play.final"], ["nowhere"]), "unknown station(s) nowhere"),
        ]:
            with pytest.raises(service.NotifyError, match=message.replace("(", r"\(").replace(")", r"\)")):
                service.create_webhook(s, *args)  # type: ignore[arg-type]
        with pytest.raises(service.NotifyError, match="name deliveries to replay"):
            service.replay(s)
        with pytest.raises(service.NotifyNotFound, match="no delivery 99: see `sodav-collector webhooks"):
            service.replay(s, [99])


def test_backoff_doubles_to_its_cap_with_jitter() -> None:
    lowest = [backoff(n, 30, 3600, rand=lambda: 0.0).total_seconds() for n in range(1, 10)]
    highest = [backoff(n, 30, 3600, rand=lambda: 1.0).total_seconds() for n in range(1, 10)]
    assert highest == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert lowest == [h / 2 for h in highest]


def test_the_log_forgets_old_acknowledged_deliveries_only(
    db: sessionmaker[Session], database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.answers = [200, 200, 500]
    with transaction(db) as s:
        hook, _ = service.create_webhook(s, receiver.url, ["play.final"])
        for _ in range(3):
            service.ping(s, hook.id)
    deliverer = Deliverer(settings_for(database_url, tmp_path, max_attempts=1), read_file=lambda n: b"")
    try:
        deliverer.tick(db)
        assert [d.status for d in deliveries(db)] == ["delivered", "delivered", "failed"]
        long_ago = datetime.now(UTC) - timedelta(days=31)
        with transaction(db) as s:
            first = deliveries(db)[0].id
            s.execute(update(Delivery).where(Delivery.id == first).values(delivered_at=long_ago))
            s.execute(update(Delivery).where(Delivery.status == "failed").values(created_at=long_ago))
        assert deliverer.prune(db) == 1
    finally:
        deliverer.close()
    assert [d.status for d in deliveries(db)] == ["delivered", "failed"]
