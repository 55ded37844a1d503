"""``/metrics``: the collector's Prometheus metrics, and the worker's own port.

Two kinds of metrics, two sources (docs/ops/monitoring.md lists them all):

- per process, counted where the work happens (:mod:`collector.instruments`): requests and
  their latency by route, uploads and segments by agent, matching cycles, deliveries;
- from the database, read at scrape time (:mod:`collector.facts`), cached ``metrics.cache_s``
  seconds: queue depth and age, station and agent states, plays per hour, reports due, outbox.

Several processes. The per-process metrics of one process are what its own ``/metrics`` (or
``metrics.worker_port``) shows. When several processes share a host (uvicorn workers,
``sodav-collector worker`` processes), start them all with ``PROMETHEUS_MULTIPROC_DIR`` set to
one empty directory (prometheus-client's multiprocess mode): ``serve``'s ``/metrics`` then adds
up every process's counters, and one scrape sees the whole host. The database facts are the
same whichever process answers, so they are never counted twice.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from collector import facts, instruments
from collector.errors import CollectorError
from collector.kv import SharedRedis, redis_for
from collector.settings import CollectorSettings
from collector.webapp import WEB_ROUTE
from shared.config import ConfigError, read_secret
from shared.schemas import ErrorCode

log = logging.getLogger("collector.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class _ThisProcess:
    """The default registry's metrics (instruments, process, Python) inside another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to check at registration: the names are the default registry's


class DatabaseFacts:
    """:mod:`collector.facts`, read at most once per ``cache_s``; ``sodav_database_up`` says whether
    the last read worked (a scrape never fails because the database does)."""

    def __init__(self, settings: CollectorSettings, sessions: Callable[[], sessionmaker[Session] | None]):
        self.settings = settings
        self.sessions = sessions
        self.lock = threading.Lock()
        self.cached: list[Metric] = []
        self.at = float("-inf")

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not read the database (the app has no engine yet)

    def collect(self) -> Iterable[Metric]:
        factory = self.sessions()
        if factory is None:  # the app has not started yet
            return [self._up(False)]
        with self.lock:
            if time.monotonic() - self.at >= self.settings.metrics.cache_s:
                self.cached = self._read(factory)
                self.at = time.monotonic()
            return list(self.cached)

    @staticmethod
    def _up(ok: bool) -> Metric:
        up = GaugeMetricFamily(
            "sodav_database_up", "1 if the collector could read its database at the last scrape."
        )
        up.add_metric([], 1.0 if ok else 0.0)
        return up

    def _read(self, factory: sessionmaker[Session]) -> list[Metric]:
        try:
            with factory() as session:
                found = facts.collect(session, self.settings)
        except Exception:
            log.exception("metrics: cannot read the database")
            return [self._up(False)]
        return [self._up(True), *found]


def registry(
    settings: CollectorSettings, sessions: Callable[[], sessionmaker[Session] | None] | None
) -> CollectorRegistry:
    """What one scrape returns: this process (or, in multiprocess mode, every process sharing the
    directory), and the database facts when ``sessions`` is given."""
    reg = CollectorRegistry(auto_describe=True)
    if multiprocess():
        MultiProcessCollector(reg)  # type: ignore[no-untyped-call]
    else:
        reg.register(_ThisProcess())
    if sessions is not None:
        reg.register(DatabaseFacts(settings, sessions))
    redis = redis_for(settings)
    if redis is not None:
        reg.register(RedisUp(redis))
    return reg


class RedisUp:
    """``sodav_redis_up``: 1 if the configured Redis answered a PING at this scrape."""

    def __init__(self, redis: SharedRedis) -> None:
        self.redis = redis

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "sodav_redis_up", "1 if the collector's Redis (redis_url) answered at this scrape."
        )
        up.add_metric([], 1.0 if self.redis.ping() else 0.0)
        return [up]


class MetricsForbidden(CollectorError):
    status = 401
    code = ErrorCode.INVALID_TOKEN


def endpoint(settings: CollectorSettings, reg: CollectorRegistry) -> Callable[[Request], Response]:
    """The ``GET /metrics`` handler; with ``metrics.token_file`` it wants that bearer token."""
    token = (
        read_secret(settings.metrics.token_file, "metrics.token_file")
        if settings.metrics.token_file
        else None
    )

    def metrics(request: Request) -> Response:
        if token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token.get_secret_value()):
                raise MetricsForbidden("/metrics wants the bearer token of metrics.token_file")
        return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)

    return metrics


class TimingMiddleware:
    """Time every HTTP request by method, route template (never the raw path) and status."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            code = status["code"]
            instruments.HTTP_SECONDS.labels(scope["method"], route_of(scope, code), str(code)).observe(
                time.perf_counter() - started
            )


def route_of(scope: Scope, status: int = 200) -> str:
    """The route template that answered (``/api/v1/reports/files/{file_id}``), ``web`` for the
    app's pages, or ``unmatched`` for a path nothing serves (the app's catch-all answers 404)."""
    path = getattr(scope.get("route"), "path", None)
    if path == WEB_ROUTE:
        return "unmatched" if status == 404 else "web"
    return path or "unmatched"


def serve_worker_metrics(settings: CollectorSettings) -> None:
    """``sodav-collector worker``'s own metrics on ``metrics.worker_host:worker_port`` (when set)."""
    port = settings.metrics.worker_port
    if port is None:
        return
    if multiprocess():
        log.info("metrics: %s is set, serve's /metrics already adds this worker up", MULTIPROC_ENV)
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=settings.metrics.worker_host, registry=registry(settings, None))
    except OSError as exc:
        raise ConfigError(
            f"metrics.worker_port: cannot listen on {settings.metrics.worker_host}:{port} ({exc.strerror}); "
            "choose a free port, or remove the key"
        ) from exc
    log.info("worker metrics on http://%s:%d/metrics", settings.metrics.worker_host, port)
