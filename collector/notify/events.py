"""Events into the outbox: a play became final, a station changed state, a report file was made.

Each function writes one :class:`~collector.notify.models.Delivery` per receiver in the caller's
transaction: the play, the state or the file and its deliveries are committed together, or
not at all. Nothing is sent here (:mod:`collector.notify.delivery` sends).

A webhook's body is the same for every receiver and every attempt::

    {"id": "<event uuid>", "type": "play.final", "created_at": "2026-11-26T07:03:32.626Z",
     "data": {...}}

Station states are derived (an agent that falls silent makes ``agent_offline`` with no write
at all), so :func:`watch_stations` compares them with the last state announced, each delivery
cycle, rather than hooking each place a state could change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.fleet import repository as fleet_repository
from collector.fleet.models import Station
from collector.fleet.service import station_statuses
from collector.formats import iso_z
from collector.notify import repository as repo
from collector.notify.models import Delivery, StationNotice, Webhook

PLAY_FINAL = "play.final"
STATION_STATE = "station.state"
PING = "ping"
REPORT_FILE = "report.file"
EVENTS = (PLAY_FINAL, STATION_STATE)  # what a webhook may subscribe to (ping always reaches it)


class PlayLike(Protocol):
    """What :func:`play_final` reads of a play (``collector.plays.models.Play``)."""

    id: int
    station_id: int
    recording_id: int
    status: str
    start: datetime
    end: datetime
    duration: float
    offset_start: float
    confidence: float
    matched_fraction: float


def _envelope(event: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": event, "created_at": iso_z(now, "milliseconds"), "data": data}


def _wants(hook: Webhook, event: str, station: str | None) -> bool:
    if event != PING and event not in hook.events.split(","):
        return False
    return station is None or not hook.stations or station in hook.stations.split(",")


def _queue(
    session: Session, event: str, event_id: str, payload: dict[str, Any], now: datetime, **to: int
) -> Delivery:
    """One delivery, due now: ``webhook_id=`` or ``subscription_id=`` names its receiver."""
    delivery = Delivery(
        channel="webhook" if "webhook_id" in to else "email",
        event=event,
        event_id=event_id,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
        **to,
    )
    session.add(delivery)
    return delivery


def emit(session: Session, event: str, data: dict[str, Any], station: str | None = None) -> int:
    """Queue ``event`` for every active webhook that subscribed to it (and to ``station``)."""
    now = datetime.now(UTC)
    body = _envelope(event, data, now)
    hooks = [h for h in repo.active_webhooks(session) if _wants(h, event, station)]
    for hook in hooks:
        _queue(session, event, body["id"], body, now, webhook_id=hook.id)
    session.flush()
    return len(hooks)


def ping(session: Session, hook: Webhook) -> Delivery:
    """A ``ping`` for one webhook: what a receiver is checked with."""
    now = datetime.now(UTC)
    body = _envelope(PING, {"webhook": hook.id, "message": "SODAV Monitor webhook test"}, now)
    delivery = _queue(session, PING, body["id"], body, now, webhook_id=hook.id)
    session.flush()
    return delivery


def play_final(session: Session, play: PlayLike) -> int:
    """The hook where plays are written: a final play is announced once (final plays never change)."""
    if play.status != "final":
        return 0
    station = session.get(Station, play.station_id)
    rec = session.get(Recording, play.recording_id)
    if station is None or rec is None:
        return 0
    data = {
        "play_id": play.id,
        "station": station.slug,
        "station_name": station.name,
        "start": iso_z(play.start, "milliseconds"),
        "end": iso_z(play.end, "milliseconds"),
        "duration_s": round(play.duration, 3),
        "offset_s": round(play.offset_start, 3),
        "confidence": round(play.confidence, 4),
        "matched_fraction": round(play.matched_fraction, 4),
        "recording": {
            "external_id": rec.external_id,
            "title": rec.title,
            "artist": rec.artist,
            "isrc": rec.isrc,
            "iswc": rec.iswc,
            "album": rec.album,
            "label": rec.label,
            "duration_s": rec.duration,
        },
    }
    return emit(session, PLAY_FINAL, data, station.slug)


def report_file(session: Session, report: dict[str, Any]) -> int:
    """The hook where scheduled report files are made: one e-mail per subscriber of that file.

    ``report`` is the file as ``GET /api/v1/reports/files`` describes it
    (``collector.reports.schedule.describe``): id, period, report, scope, format, name, size…
    """
    subscriptions = repo.subscribers(session, report["report"], report["scope"], report["format"])
    now = datetime.now(UTC)
    event_id = str(uuid.uuid4())
    for sub in subscriptions:
        _queue(session, REPORT_FILE, event_id, report, now, subscription_id=sub.id)
    session.flush()
    return len(subscriptions)


def watch_stations(session: Session, offline_after: timedelta, now: datetime | None = None) -> int:
    """Announce every station whose state differs from the last one announced; returns how many.

    A station seen for the first time is recorded without an announcement (so installing this
    version, or adding a station, does not announce every station at once).
    """
    now = now or datetime.now(UTC)
    notices = repo.station_notices(session)
    stations = {s.slug: s for s in fleet_repository.stations(session)}
    changed = 0
    for view in station_statuses(session, offline_after, now):
        station = stations.get(view.station)
        if station is None:
            continue
        notice = notices.get(station.id)
        if notice is None:
            session.add(
                StationNotice(station_id=station.id, state=view.state, since=view.since, noticed_at=now)
            )
            continue
        if notice.state == view.state:
            continue
        if not repo.move_notice(session, station.id, notice.state, view.state, view.since, now):
            continue  # another worker announced it
        data = {
            "station": view.station,
            "station_name": view.name,
            "state": view.state,
            "previous": notice.state,
            "since": iso_z(view.since, "milliseconds") if view.since else None,
            "detail": view.detail,
            "level_dbfs": view.level_dbfs,
            "last_heartbeat_at": iso_z(view.last_heartbeat_at, "milliseconds")
            if view.last_heartbeat_at
            else None,
        }
        emit(session, STATION_STATE, data, view.station)
        changed += 1
    session.flush()
    return changed
