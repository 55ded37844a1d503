"""The worker: claim new segments, name them, assemble plays, learn station rates, commit, repeat;
beside it, close the plays of stations that went quiet (:mod:`collector.plays.closing`) and tick
the reports (monthly airtime rollups, scheduled report files); in a thread of its own, deliver
the notifications (webhooks, report e-mails).

One cycle follows the data one way: matching → plays → rate learning. ``analyze`` runs the
same :func:`process` on recordings. CPU work happens here, never in the HTTP server's event loop.

Several workers may run against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``, a
station's share of a cycle holds its lock (:func:`collector.matching.repository.take_stations`:
a station another worker holds, or whose earlier segments it holds, waits for the next cycle), one
worker at a time closes quiet plays (taking the same locks, never waiting for one), and one
worker at a time runs a reports' job. SQLite runs
one worker (:func:`sqlite_worker_slot` refuses a second).

One bad segment never blocks the queue (:mod:`collector.matching.quarantine`): claimed
segments are screened first, and each station's share of a cycle runs in a savepoint, so a
failure there quarantines that station's segments with the reason and the others go on. A
cycle takes at most ``worker.max_values_per_cycle`` fingerprint values; the rest of its claim
goes back to the queue for the next cycle.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from collector import instruments
from collector.db import locks
from collector.db.session import open_database
from collector.errors import CollectorError
from collector.fleet.models import Station
from collector.ingest.models import Segment
from collector.ingest.service import TimeWindow
from collector.matching import rates
from collector.matching.catalog import Catalog, catalog_version, load_catalog
from collector.matching.quarantine import quarantine, screen, within_budget
from collector.matching.rematch import rematch_past
from collector.matching.repository import claim_segments, take_stations, unclaim
from collector.matching.service import match_segments
from collector.notify import delivery
from collector.plays.closing import CLOSE_INTERVAL_S, close_plays
from collector.plays.service import rebuild_plays
from collector.recognizers import lookups
from collector.recognizers.clustering import Clustering
from collector.reports.revisions import Reviser
from collector.reports.schedule import Ticker
from collector.reports.storage import storage_for
from collector.settings import CollectorSettings
from collector.upkeep import Upkeep

log = logging.getLogger("collector.worker")
CLOSING_JOB = locks.job_key("closing quiet plays")


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


def run_once(
    factory: sessionmaker[Session], catalog: Catalog | None, settings: CollectorSettings
) -> tuple[Catalog, int]:
    """One claim-process-learn-commit cycle; returns the (possibly reloaded) catalog and the
    segments it finished (processed or quarantined)."""
    window = TimeWindow.of(settings)
    with factory() as session:
        if catalog is None or catalog_version(session) != catalog.version:
            catalog = load_catalog(session)
            log.info(
                "catalog loaded: %d recordings, index %.1f MB", len(catalog.index), catalog.index.nbytes / 1e6
            )
        claimed = claim_segments(session, settings.worker.batch_size)
        if not claimed:
            session.commit()
            return catalog, 0
        started = time.monotonic()
        screened = screen(session, claimed, window, datetime.now(UTC))
        segments, later = within_budget(screened, settings.worker.max_values_per_cycle)
        unclaim(later)
        by_station: dict[int, list[Segment]] = {}
        for seg in segments:
            by_station.setdefault(seg.station_id, []).append(seg)
        matched = plays = 0
        unknowns = Clustering(settings.recognizers.music_min_s, rematch_days=settings.matching.rematch_days)
        ready = take_stations(session, {sid: segs[0].id for sid, segs in by_station.items()})
        for station_id, station_segments in by_station.items():
            if station_id not in ready:
                log.debug("station id=%d is with another worker: next cycle", station_id)
                unclaim(station_segments)
                later += station_segments
                continue
            done = _process_station(session, catalog, station_segments)
            matched, plays = matched + done[0], plays + done[1]
            unknowns.station(session, station_id)  # unmatched music, by song
        session.commit()
        segments = [seg for seg in segments if seg.status != "new"]
        _measure(segments, matched, time.monotonic() - started)
        log.info(
            "matched %d/%d segments, %d open/final plays rebuilt%s",
            matched,
            len(segments),
            plays,
            f", {len(claimed) - len(screened)} quarantined" if len(screened) < len(claimed) else "",
        )
        return catalog, len(claimed) - len(later)


def _process_station(session: Session, catalog: Catalog, segments: list[Segment]) -> tuple[int, int]:
    """Match one station's segments, rebuild its plays, learn its rate, in a savepoint: a failure
    rolls back this station's share of the cycle and quarantines its segments with the reason."""
    try:
        with session.begin_nested():
            matched, plays = process(session, catalog, segments)
            station = session.get(Station, segments[0].station_id)
            if station is not None:
                rates.learn(session, station)
        return matched, plays
    except Exception as exc:
        log.exception("station id=%d: processing %d segment(s) failed", segments[0].station_id, len(segments))
        for seg in segments:
            quarantine(session, seg, f"processing failed: {type(exc).__name__}: {exc}")
        return 0, 0


def _measure(segments: Sequence[Segment], matched: int, seconds: float) -> None:
    """The cycle's metrics: its time, its outcomes, each segment's wait since it arrived."""
    instruments.MATCH_CYCLE_SECONDS.observe(seconds)
    instruments.SEGMENTS_MATCHED.labels("matched").inc(matched)
    instruments.SEGMENTS_MATCHED.labels("unmatched").inc(len(segments) - matched)
    now = datetime.now(UTC)
    for seg in segments:
        instruments.MATCHING_DELAY.observe(max(0.0, (now - seg.received_at).total_seconds()))


def close_quiet_plays(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Make final the open plays of stations whose audio stopped or that sent nothing more. One
    worker at a time sweeps (the others go on matching); it never waits for a station's lock:
    a station another worker holds is being rebuilt, which applies the same rules, and the next
    sweep comes ``CLOSE_INTERVAL_S`` later."""
    with factory() as session:
        if not locks.lock(session, locks.JOB, CLOSING_JOB, wait=False):
            session.rollback()
            return 0
        closed = close_plays(
            session, now or datetime.now(UTC), lambda sid: locks.lock(session, locks.STATION, sid, wait=False)
        )
        session.commit()
        return closed


class OneWorkerOnSQLite(CollectorError):
    """A second worker on an SQLite database."""


@contextmanager
def sqlite_worker_slot(settings: CollectorSettings) -> Iterator[None]:
    """On SQLite, the one worker's place: an exclusive lock on ``<database>.worker-lock``, held
    while the worker runs and freed by the system if it dies. A second worker (another
    ``sodav-collector worker``, or a ``serve`` with its worker thread) is refused. PostgreSQL
    takes any number of workers."""
    if not settings.is_sqlite:
        yield
        return
    path = Path(settings.database_url.split("sqlite:///", 1)[1] + ".worker-lock")
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OneWorkerOnSQLite(
                f"another worker already matches on this SQLite database ({path} is locked): SQLite "
                "runs one worker, in `serve` or in one `sodav-collector worker`; several workers "
                "need PostgreSQL (docs/ops/scaling.md)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_worker(settings: CollectorSettings, stop: threading.Event) -> None:
    """Match and report until ``stop`` is set (the app's thread, or ``sodav-collector worker``).
    On SQLite, a worker that is not the only one raises :class:`OneWorkerOnSQLite`."""
    with sqlite_worker_slot(settings):
        _run(settings, stop)


def _run(settings: CollectorSettings, stop: threading.Event) -> None:
    catalog: Catalog | None = None
    reports = Ticker(settings)  # monthly/semester report files, checked every few minutes
    revised = Reviser(settings)  # finished periods that re-matching changed, generated again
    upkept = Upkeep(settings)  # next months' partitions, the retention policy: hourly
    deliveries = delivery.start(settings, stop, storage_for(settings).read)  # its own thread
    naming = lookups.start(settings, stop)  # AcoustID and AudD about unknown music, its own thread
    close_at = 0.0
    with open_database(settings) as db:
        while not stop.is_set():
            try:
                catalog, done = run_once(db.sessions, catalog, settings)
            except Exception:
                instruments.WORKER_FAILURES.inc()
                log.exception("matching cycle failed; retrying")
                done = 0
            if time.monotonic() >= close_at:
                try:
                    close_quiet_plays(db.sessions)
                except Exception:
                    log.exception("closing quiet plays failed; retrying later")
                close_at = time.monotonic() + CLOSE_INTERVAL_S
            reports.tick(db.sessions)
            revised.tick(db.sessions)
            upkept.tick(db.sessions)
            if not done:  # the queue is empty: the past audio, for recordings new to the catalog
                done = rematch_past(db.sessions, settings.matching.rematch_days)
            if not done:
                stop.wait(settings.worker.poll_interval_s)
    if deliveries is not None:
        deliveries.join(timeout=settings.notify.timeout_s + 5)
    if naming is not None:
        naming.join(timeout=settings.recognizers.timeout_s + 5)
