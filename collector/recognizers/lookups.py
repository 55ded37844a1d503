"""Naming clusters: AcoustID first, then AudD with 12 s of the station's own audio.

A cluster with a long enough span (:mod:`collector.recognizers.clustering`) is looked up
once, through the gate (budget, breaker, rate), its ``lookup`` moving on as the answers come:

    acoustid ──named──────────────────────────────────────────────▶ named (a learned recording)
        │ not found, parked, stopped
        ▼
    excerpt: the best span's 12 s are asked of the station's agent (in its upload and
        │    heartbeat acknowledgements); an excerpt that is gone tries the cluster's
        │    next span, and with none left the cluster is ``no_audio``
        ▼ the audio is here
    audd ──named──▶ named        not found ──▶ not_found        parked ──▶ parked
                                        │ it airs again (once): a new span's excerpt
                                        ▼
                                      excerpt

``RetryLater`` (a 429, a timeout, the day's budget spent) and an open breaker keep the state
and set ``retry_at``. A cluster AudD did not know that keeps airing is asked once more, with the
excerpt of a new span (:func:`ask_once_more`: another part of the song, or another station's
signal; a paid request like any, within the budget); nothing else is asked twice for one
cluster unless a person asks again (:func:`ask_again`). A lookup never runs in an HTTP
request: :func:`start` runs them in a thread of the worker. Each cluster is leased
(``retry_at`` set ahead, under ``FOR UPDATE SKIP LOCKED`` on PostgreSQL) before its request
goes out, so two workers never ask for the same one.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from collector.db.session import open_database, transaction
from collector.fleet.models import Station
from collector.ingest.excerpts import ExcerptRequest, aged, request_excerpt
from collector.recognizers.clip import AUDD_MAX_SECONDS, AudioError
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.growth import trim
from collector.recognizers.learning import learn, merge_imported, purge_retired
from collector.recognizers.outcomes import Candidate, Named, NotFound, Outcome, Park, RetryLater, Stop
from collector.recognizers.rejoin import rejoin
from collector.recognizers.service import Recognizers
from collector.settings import CollectorSettings, ConfigError
from shared.chroma import item_duration
from shared.codec import decode

__all__ = ["AUDD_TRIES", "Lookups", "ask_again", "ask_once_more", "start"]

log = logging.getLogger("collector.recognizers")
LEASE = timedelta(minutes=5)
ACTIVE = ("acoustid", "excerpt", "audd")
INTERVAL_S = 5.0
AUDD_TRIES = 2  # excerpts AudD hears of one cluster before it waits for a person


# offline analysis: where a span's audio is (a file, and seconds into it), or None
Cut = Callable[[UnknownSpan], tuple[Path, float] | None]


@dataclass(frozen=True)
class Due:
    cluster_id: int
    state: str


def ask_again(session: Session, cluster: UnknownCluster) -> None:
    """A person asks for another lookup: from AcoustID again, every span's excerpt askable."""
    cluster.lookup, cluster.retry_at, cluster.lookup_detail = "acoustid", None, None
    for span in session.scalars(select(UnknownSpan).where(UnknownSpan.cluster_id == cluster.id)):
        span.excerpt_request_id = None


def _purpose(cluster_id: int) -> str:
    return f"recognizers:cluster:{cluster_id}"


def ask_once_more(session: Session, cluster: UnknownCluster, span: UnknownSpan) -> bool:
    """A cluster that AudD did not know airs again (``span``, long enough to look up): its
    excerpt goes to AudD, unless AudD has heard ``AUDD_TRIES`` of the cluster's excerpts already;
    True when it is asked."""
    if cluster.lookup != "not_found" or not (cluster.lookup_detail or "").startswith("AudD:"):
        return False
    heard = session.scalar(
        select(func.count())
        .select_from(ExcerptRequest)
        .where(ExcerptRequest.purpose == _purpose(cluster.id), ExcerptRequest.state == "stored")
    )
    if not heard or heard >= AUDD_TRIES:
        return False  # offline analysis sends no excerpt request: the file was all there was
    cluster.lookup, cluster.retry_at, cluster.best_span_id = "excerpt", None, span.id
    cluster.lookup_detail = f"{cluster.lookup_detail}; it airs again: AudD is asked once more"
    log.info(
        "cluster %d: AudD did not know it and it airs again: asking once more (span %d)", cluster.id, span.id
    )
    return True


class Lookups:
    """One pass over the clusters due for a lookup step (:meth:`tick`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        recognizers: Recognizers,
        batch: int = 20,
        cut: Cut | None = None,
    ) -> None:
        self.sessions = sessions
        self.recognizers = recognizers
        self.batch = batch
        self.cut = cut  # offline analysis: the audio is in a file, not on an agent

    def tick(self, now: datetime | None = None, only: Sequence[int] | None = None) -> int:
        """Move every due cluster (of ``only``, when given) one step; return how many moved."""
        with transaction(self.sessions) as session:
            merge_imported(session)
            purge_retired(session)
        moved = 0
        for due in self._claim(now or datetime.now(UTC), only):
            try:
                moved += self._step(due)
            except Exception:
                log.exception("cluster %d: lookup step %s failed; retried later", due.cluster_id, due.state)
        return moved

    def _claim(self, now: datetime, only: Sequence[int] | None = None) -> list[Due]:
        with transaction(self.sessions) as session:
            stmt = (
                select(UnknownCluster)
                .where(
                    UnknownCluster.lookup.in_(ACTIVE),
                    UnknownCluster.merged_into.is_(None),
                    or_(UnknownCluster.retry_at.is_(None), UnknownCluster.retry_at <= now),
                )
                .order_by(UnknownCluster.airtime_s.desc(), UnknownCluster.id)
                .limit(self.batch)
            )
            if only is not None:
                stmt = stmt.where(UnknownCluster.id.in_(only))
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            due = []
            for cluster in session.scalars(stmt):
                cluster.retry_at = now + LEASE
                due.append(Due(cluster.id, cluster.lookup))
            return due

    def _step(self, due: Due) -> int:
        if due.state == "acoustid":
            return self._acoustid(due.cluster_id)
        if due.state == "excerpt":
            return self._excerpt(due.cluster_id)
        return self._audd(due.cluster_id)

    def _acoustid(self, cluster_id: int) -> int:
        with self.sessions() as session:
            cluster = session.get_one(UnknownCluster, cluster_id)
            span = session.get(UnknownSpan, cluster.best_span_id) if cluster.best_span_id else None
            values = decode(span.fingerprint).values if span is not None else None
        if values is None or self.recognizers.acoustid is None:
            outcome: Outcome = NotFound("AcoustID is off" if values is not None else "no span")
        else:
            outcome = self.recognizers.acoustid_lookup(values.tolist(), values.size * item_duration(0))
        with transaction(self.sessions) as session:
            cluster = session.get_one(UnknownCluster, cluster_id)
            if isinstance(outcome, Named):
                self._named(session, cluster, outcome, "acoustid")
            elif isinstance(outcome, RetryLater):
                self._later(cluster, outcome)
            else:  # not found, parked, stopped: AudD is the next to ask
                cluster.lookup, cluster.retry_at = "excerpt", None
                cluster.lookup_detail = f"AcoustID: {getattr(outcome, 'why', outcome.kind)}"
        return 1

    def _excerpt(self, cluster_id: int) -> int:
        """Ask the agent for the best span's audio not asked yet; move on when it is here or gone."""
        with transaction(self.sessions) as session:
            cluster = session.get_one(UnknownCluster, cluster_id)
            if self.recognizers.audd is None:
                cluster.lookup, cluster.retry_at = "not_found", None
                cluster.lookup_detail = (
                    cluster.lookup_detail or ""
                ) + "; AudD is off (recognizers.audd_token_file)"
                return 1
            if self.cut is not None:  # the file is here: straight to AudD
                cluster.lookup, cluster.retry_at = "audd", None
                return 1
            span = session.get(UnknownSpan, cluster.best_span_id) if cluster.best_span_id else None
            asked = (
                session.get(ExcerptRequest, span.excerpt_request_id)
                if span and span.excerpt_request_id
                else None
            )
            stale = asked is not None and asked.state == "pending" and aged(asked.end)
            if asked is not None and asked.state == "stored":
                cluster.lookup, cluster.retry_at = "audd", None
            elif asked is None or asked.state == "gone" or stale:
                span = _next_span(session, cluster) if asked is not None else span
                if span is None:
                    cluster.lookup, cluster.retry_at = "no_audio", None
                    cluster.lookup_detail = "the agents no longer keep the audio of any of its spans"
                else:
                    station = session.get_one(Station, span.station_id)
                    req = request_excerpt(
                        session,
                        station,
                        span.excerpt_start,
                        span.excerpt_end,
                        _purpose(cluster.id),
                    )
                    span.excerpt_request_id, cluster.best_span_id = req.id, span.id
                    cluster.retry_at = datetime.now(UTC) + timedelta(seconds=INTERVAL_S)
            else:  # pending: the agent answers with its next acknowledgement
                cluster.retry_at = datetime.now(UTC) + timedelta(seconds=INTERVAL_S)
        return 1

    def _audd(self, cluster_id: int) -> int:
        if self.cut is not None:
            return self._audd_file(cluster_id, self.cut)
        with self.sessions() as session:
            cluster = session.get_one(UnknownCluster, cluster_id)
            span = session.get_one(UnknownSpan, cluster.best_span_id)
            req = session.get_one(ExcerptRequest, span.excerpt_request_id)
            audio, audio_start, audio_end = req.audio, req.audio_start, req.audio_end
            start_s = max(0.0, (span.excerpt_start - (audio_start or span.excerpt_start)).total_seconds())
            seconds = min(
                AUDD_MAX_SECONDS, ((audio_end or span.excerpt_end) - span.excerpt_start).total_seconds()
            )
        outcome: Outcome | None
        with tempfile.TemporaryDirectory(prefix="sodav-excerpt-") as tmp:
            path = Path(tmp) / "excerpt.ogg"
            path.write_bytes(audio or b"")
            try:
                outcome = self.recognizers.audd_recognize(path, start_s, max(1.0, seconds))
            except AudioError as exc:
                log.warning(
                    "cluster %d: the agent's excerpt cannot be decoded (%s): trying another span",
                    cluster_id,
                    exc,
                )
                outcome = None
        self._audd_outcome(cluster_id, outcome)
        return 1

    def _audd_file(self, cluster_id: int, cut: Cut) -> int:
        """AudD about the best span's 12 s, cut from the analysed file itself."""
        with self.sessions() as session:
            cluster = session.get_one(UnknownCluster, cluster_id)
            span = session.get_one(UnknownSpan, cluster.best_span_id)
            where = cut(span)
        if where is None:
            outcome: Outcome | None = Park("the span's audio is not in the analysed files")
        else:
            try:
                outcome = self.recognizers.audd_recognize(where[0], where[1], AUDD_MAX_SECONDS)
            except AudioError as exc:
                outcome = Park(f"the file cannot be cut there: {exc}")
        self._audd_outcome(cluster_id, outcome)
        return 1

    def _audd_outcome(self, cluster_id: int, outcome: Outcome | None) -> None:
        with transaction(self.sessions) as session:
            cluster = session.get_one(UnknownCluster, cluster_id)
            if outcome is None:
                cluster.lookup, cluster.retry_at = "excerpt", None
                _mark_gone(session, cluster)
            elif isinstance(outcome, Named):
                self._named(session, cluster, outcome, "audd")
            elif isinstance(outcome, RetryLater | Stop):
                self._later(cluster, outcome)
            elif isinstance(outcome, NotFound):
                cluster.lookup, cluster.retry_at = "not_found", None
                cluster.lookup_detail = f"AudD: {outcome.why}"
                rejoin(session, cluster)  # a part of a named song, cut from its span?
            elif isinstance(outcome, Park):
                cluster.lookup, cluster.retry_at = "parked", None
                cluster.lookup_detail = f"AudD: {outcome.why}"

    @staticmethod
    def _named(session: Session, cluster: UnknownCluster, outcome: Named, source: str) -> None:
        cluster.candidates = (cluster.candidates or []) + [_candidate_json(c) for c in outcome.candidates]
        cluster.retry_at, cluster.lookup_detail = None, None
        learn(session, cluster, outcome.best, source)
        trim(session, cluster)  # another song's end, run into it before it was named
        rejoin(session, cluster)  # parts of the song cut from its spans: one song again

    @staticmethod
    def _later(cluster: UnknownCluster, outcome: RetryLater | Stop) -> None:
        at = outcome.at if isinstance(outcome, RetryLater) else None
        cluster.retry_at = at or datetime.now(UTC) + timedelta(
            minutes=1 if isinstance(outcome, RetryLater) else 60
        )
        cluster.lookup_detail = outcome.why


def _candidate_json(c: Candidate) -> dict[str, Any]:
    """What the labelling queue shows of a candidate: every field but the provider's raw block."""
    return {k: v for k, v in asdict(c).items() if k != "raw"}


def _next_span(session: Session, cluster: UnknownCluster) -> UnknownSpan | None:
    """The cluster's best span whose excerpt was not asked for yet (the longest, most musical)."""
    spans = session.scalars(
        select(UnknownSpan).where(
            UnknownSpan.cluster_id == cluster.id, UnknownSpan.excerpt_request_id.is_(None)
        )
    ).all()
    return max(spans, key=lambda s: (min(s.seconds, 60.0), s.score), default=None)


def _mark_gone(session: Session, cluster: UnknownCluster) -> None:
    """The best span's excerpt is unusable: the next step asks another span's."""
    span = session.get(UnknownSpan, cluster.best_span_id) if cluster.best_span_id else None
    req = session.get(ExcerptRequest, span.excerpt_request_id) if span and span.excerpt_request_id else None
    if req is not None:
        req.state, req.detail = "gone", "the collector could not decode the audio"


def start(settings: CollectorSettings, stop: threading.Event) -> threading.Thread | None:
    """Run lookups in a thread beside the worker, while a recognizer is configured."""
    try:
        keys = settings.acoustid_key_value(), settings.audd_token_value()
    except ConfigError as exc:  # matching goes on; naming waits for the key files to be fixed
        log.error("recognizers off: %s", exc)
        return None
    if keys == (None, None):
        log.info(
            "recognizers off (no AcoustID key, no AudD token): unknown music is clustered, not looked up"
        )
        return None

    def run() -> None:
        with open_database(settings) as db, Recognizers(settings, db.sessions) as recognizers:
            lookups = Lookups(db.sessions, recognizers)
            while not stop.is_set():
                try:
                    moved = lookups.tick()
                except Exception:
                    log.exception("lookup pass failed; retrying")
                    moved = 0
                if not moved:
                    stop.wait(INTERVAL_S)

    thread = threading.Thread(target=run, name="recognizer-lookups", daemon=True)
    thread.start()
    return thread
