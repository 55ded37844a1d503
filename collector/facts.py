"""What the database says about the system's health, read when Prometheus scrapes.

Queue depth, the age of the oldest waiting segment, station and agent states, plays in the
last hour, report files due, the notifications' outbox: facts every process sees alike,
so they are computed from the database at scrape time (a few cheap, indexed queries), not
counted in one process. :mod:`collector.metrics` caches them for ``metrics.cache_s``.

A composition module: it reads several domains' tables, as a report would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import shared
from collector.catalog.models import Recording
from collector.fleet import repository as fleet_repository
from collector.fleet.service import station_statuses
from collector.ingest.models import Segment
from collector.notify import repository as notify_repository
from collector.plays.models import Play
from collector.reports import schedule
from collector.reports.models import GeneratedReport
from collector.settings import CollectorSettings

STATES = ("online", "silent", "stream_down", "agent_offline", "never_seen")
WAITING = ("new", "claimed")
CHANNELS = ("webhook", "email")
OUTBOX_STATES = ("pending", "delivered", "failed")
RECOGNIZERS = ("acoustid", "audd")


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def _ts(t: datetime) -> float:
    return t.timestamp()


def matching_queue(session: Session, now: datetime) -> Iterator[Metric]:
    depth, oldest = session.execute(
        select(func.count(), func.min(Segment.received_at)).where(Segment.status.in_(WAITING))
    ).one()
    yield GaugeMetricFamily(
        "sodav_matching_queue_segments", "Segments waiting to be matched (new or claimed).", value=depth
    )
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    yield GaugeMetricFamily(
        "sodav_matching_oldest_segment_age_seconds",
        "Time the oldest waiting segment has waited since it arrived (0: none waits).",
        value=age,
    )


def stations(session: Session, settings: CollectorSettings, now: datetime) -> Iterator[Metric]:
    state = _gauge(
        "sodav_station_state", "1 for the station's current state, 0 for the others.", ["station", "state"]
    )
    since = _gauge(
        "sodav_station_state_since_timestamp_seconds",
        "When the station entered its state (Unix time).",
        ["station"],
    )
    offline = timedelta(seconds=settings.agent_offline_after_s)
    for view in station_statuses(session, offline, now):
        for s in STATES:
            state.add_metric([view.station, s], 1.0 if view.state == s else 0.0)
        if view.since is not None:
            since.add_metric([view.station], _ts(view.since))
    yield state
    yield since


def agents(session: Session, settings: CollectorSettings, now: datetime) -> Iterator[Metric]:
    online = _gauge(
        "sodav_fleet_agent_online",
        "1 if the agent sent a heartbeat within agent_offline_after_s, else 0 (agents heard at least once).",
        ["agent"],
    )
    seen = _gauge(
        "sodav_fleet_agent_last_heartbeat_timestamp_seconds",
        "When the agent was last heard (Unix time).",
        ["agent"],
    )
    for agent in fleet_repository.agents(session):
        if agent.last_seen_at is None:
            continue
        fresh = (now - agent.last_seen_at).total_seconds() <= settings.agent_offline_after_s
        online.add_metric([agent.name], 1.0 if fresh else 0.0)
        seen.add_metric([agent.name], _ts(agent.last_seen_at))
    yield online
    yield seen


def plays(session: Session, now: datetime) -> Iterator[Metric]:
    family = _gauge(
        "sodav_plays_last_hour",
        "Plays (open or final) that started in the last hour, by station.",
        ["station"],
    )
    counts = dict(
        session.execute(
            select(Play.station_id, func.count())
            .where(Play.start >= now - timedelta(hours=1))
            .group_by(Play.station_id)
        ).all()
    )
    for station in fleet_repository.stations(session):
        family.add_metric([station.slug], float(counts.get(station.id, 0)))
    yield family
    yield GaugeMetricFamily(
        "sodav_catalog_recordings",
        "Recordings in the catalog.",
        value=session.scalar(select(func.count(Recording.id))),
    )


def reports(session: Session, settings: CollectorSettings, now: datetime) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "sodav_reports_due",
        "Scheduled report files of finished periods not generated yet (the worker makes them).",
        value=len(schedule.due(session, settings, now)),
    )
    last = session.scalar(select(func.max(GeneratedReport.generated_at)))
    family = _gauge("sodav_report_last_generated_timestamp_seconds", "When a report file was last generated.")
    if last is not None:
        family.add_metric([], _ts(last))
    yield family


def outbox(session: Session, now: datetime) -> Iterator[Metric]:
    counts = {(c, s): n for c, s, n in notify_repository.outbox_counts(session)}
    family = _gauge(
        "sodav_notify_outbox", "Deliveries in the outbox by channel and status.", ["channel", "status"]
    )
    for channel in CHANNELS:
        for status in OUTBOX_STATES:
            family.add_metric([channel, status], float(counts.get((channel, status), 0)))
    yield family
    oldest = dict(notify_repository.oldest_pending(session))
    age = _gauge(
        "sodav_notify_oldest_pending_age_seconds",
        "Age of the oldest delivery not acknowledged yet (0: none).",
        ["channel"],
    )
    for channel in CHANNELS:
        t = oldest.get(channel)
        age.add_metric([channel], max(0.0, (now - t).total_seconds()) if t else 0.0)
    yield age


def recognizers() -> Iterator[Metric]:
    """The external recognizers' daily budget: declared, without samples, until the fallback to
    AcoustID/AudD exists (it keeps requests per service and day in the database)."""
    yield _gauge(
        "sodav_recognizer_budget_remaining",
        "Requests left today in the recognizer's daily budget.",
        ["service"],
    )


def collect(session: Session, settings: CollectorSettings, now: datetime | None = None) -> list[Metric]:
    """Every fact, read in one session."""
    now = now or datetime.now(UTC)
    info = _gauge("sodav_collector_info", "Always 1: the collector's version.", ["version"])
    info.add_metric([shared.__version__], 1.0)
    return [
        info,
        *matching_queue(session, now),
        *stations(session, settings, now),
        *agents(session, settings, now),
        *plays(session, now),
        *reports(session, settings, now),
        *outbox(session, now),
        *recognizers(),
    ]
