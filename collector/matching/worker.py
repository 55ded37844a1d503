"""The matching worker: claim new segments, name them, assemble plays, commit, repeat.

Several workers may run against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED`` so no
two take the same segment. CPU work (matching) happens here, never in the HTTP server's
event loop.
"""

from __future__ import annotations

import logging
import threading

from collector.db.engine import make_engine, make_sessionmaker
from collector.fleet.models import Station
from collector.ingest.service import claim_segments
from collector.matching import rates
from collector.matching.pipeline import Catalog, catalog_version, load_catalog, process
from collector.reports.schedule import Ticker
from collector.settings import CollectorSettings

log = logging.getLogger("collector.worker")


def run_once(factory, catalog: Catalog | None, batch_size: int) -> tuple[Catalog, int]:  # type: ignore[no-untyped-def]
    """One claim-process-commit cycle; returns the (possibly reloaded) catalog and segments done."""
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


def run_worker(settings: CollectorSettings, stop: threading.Event) -> None:
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    catalog: Catalog | None = None
    reports = Ticker(settings)  # monthly/semester report files, checked every few minutes
    try:
        while not stop.is_set():
            try:
                catalog, done = run_once(factory, catalog, settings.worker.batch_size)
            except Exception:
                log.exception("matching cycle failed; retrying")
                done = 0
            reports.tick(factory)
            if not done:
                stop.wait(settings.worker.poll_interval_s)
    finally:
        engine.dispose()
