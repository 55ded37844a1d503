"""The worker: claim new segments, name them, assemble plays, learn station rates, commit, repeat;
beside it, close the plays of stations that went quiet (:mod:`collector.plays.closing`), and the
reports' ticker (monthly airtime rollups, scheduled report files).

One cycle follows the data one way: matching → plays → rate learning. ``analyze`` runs the
same :func:`process` on recordings. Several workers may run against PostgreSQL (claims use
``FOR UPDATE SKIP LOCKED``). CPU work happens here, never in the HTTP server's event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from collector.db.session import open_database
from collector.fleet.models import Station
from collector.ingest.models import Segment
from collector.matching import rates
from collector.matching.catalog import Catalog, catalog_version, load_catalog
from collector.matching.repository import claim_segments
from collector.matching.service import match_segments
from collector.plays.closing import CLOSE_INTERVAL_S, close_plays
from collector.plays.service import rebuild_plays
from collector.reports.schedule import Ticker
from collector.settings import CollectorSettings

log = logging.getLogger("collector.worker")


def process(
    session: Session,
    catalog: Catalog,
    segments: Sequence[Segment],
    final_all: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[int, int]:
    """Match claimed segments and rebuild the plays of their stations. Returns (matched, plays)."""
    matched = match_segments(session, catalog, segments, progress)
    plays = 0
    by_station: dict[int, datetime] = {}
    for seg in segments:
        by_station[seg.station_id] = min(by_station.get(seg.station_id, seg.start), seg.start)
    for station_id, since in by_station.items():
        plays += rebuild_plays(session, catalog, station_id, since, final_all)
    return matched, plays


def run_once(factory: sessionmaker[Session], catalog: Catalog | None, batch_size: int) -> tuple[Catalog, int]:
    """One claim-process-learn-commit cycle; returns the (possibly reloaded) catalog and segments done."""
    with factory() as session:
        if catalog is None or catalog_version(session) != catalog.version:
            catalog = load_catalog(session)
            log.info(
                "catalog loaded: %d recordings, index %.1f MB", len(catalog.index), catalog.index.nbytes / 1e6
            )
        segments = claim_segments(session, batch_size)
        if not segments:
            session.commit()
            return catalog, 0
        matched, plays = process(session, catalog, segments)
        for station_id in {s.station_id for s in segments}:
            station = session.get(Station, station_id)
            if station is not None:
                rates.learn(session, station)
        session.commit()
        log.info("matched %d/%d segments, %d open/final plays rebuilt", matched, len(segments), plays)
        return catalog, len(segments)


def close_quiet_plays(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Make final the open plays of stations whose audio stopped or that sent nothing more."""
    with factory() as session:
        closed = close_plays(session, now or datetime.now(UTC))
        session.commit()
        return closed


def run_worker(settings: CollectorSettings, stop: threading.Event) -> None:
    """Match and report until ``stop`` is set (the app's thread, or ``sodav-collector worker``)."""
    catalog: Catalog | None = None
    reports = Ticker(settings)  # monthly/semester report files, checked every few minutes
    close_at = 0.0
    with open_database(settings) as db:
        while not stop.is_set():
            try:
                catalog, done = run_once(db.sessions, catalog, settings.worker.batch_size)
            except Exception:
                log.exception("matching cycle failed; retrying")
                done = 0
            if time.monotonic() >= close_at:
                try:
                    close_quiet_plays(db.sessions)
                except Exception:
                    log.exception("closing quiet plays failed; retrying later")
                close_at = time.monotonic() + CLOSE_INTERVAL_S
            reports.tick(db.sessions)
            if not done:
                stop.wait(settings.worker.poll_interval_s)
