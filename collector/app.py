"""FastAPI application factory. Engines are built in the lifespan, never at import.

Routes: the API under ``/api/v1`` (each domain's router, the live events), ``/healthz``,
``/docs`` and ``/redoc`` on local assets, and the web application at ``/`` (last: it answers
every other GET path, :mod:`collector.webapp`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

import shared
from collector.catalog.endpoints import router as catalog_router
from collector.db.engine import make_engine, make_sessionmaker
from collector.errors import CollectorError, error_responses
from collector.fleet.admin import router as fleet_admin_router
from collector.fleet.endpoints import router as fleet_router
from collector.ingest.endpoints import router as ingest_router
from collector.instruments import AUTH_FAILURES
from collector.kv import redis_for
from collector.live.broker import LocalBroker
from collector.live.endpoints import router as live_router
from collector.live.feed import Feed
from collector.metrics import TimingMiddleware, endpoint, registry, route_of
from collector.notify.endpoints import router as notify_router
from collector.plays.endpoints import router as plays_router
from collector.recognizers.endpoints import router as unknowns_router
from collector.reports.cache import ReportCache
from collector.reports.endpoints import router as reports_router
from collector.settings import CollectorSettings
from collector.webapp import install_docs, install_web
from shared.schemas import ErrorCode, ErrorV1, ExcerptV1, HeartbeatV1, UploadV1

log = logging.getLogger(__name__)
errors_log = logging.getLogger("collector.errors")


def create_app(settings: CollectorSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        log.info("collector started on %s", engine.url.render_as_string(hide_password=True))
        redis = redis_for(settings)
        app.state.report_cache = ReportCache(redis)
        stop_feed = asyncio.Event()
        tasks = []
        if redis is None:
            app.state.broker = LocalBroker()
        else:  # one feed, one numbering and one replay for every process
            from collector.live.redis_broker import RedisBroker

            app.state.broker = RedisBroker(redis)
            tasks.append(asyncio.create_task(app.state.broker.relay(stop_feed), name="live-relay"))
        app.state.feed = Feed(
            app.state.sessionmaker,
            app.state.broker,
            timedelta(seconds=settings.agent_offline_after_s),
            ZoneInfo(settings.timezone),
        )
        tasks.append(asyncio.create_task(app.state.feed.run(stop_feed), name="live-feed"))
        stop = threading.Event()
        worker = None
        if settings.worker.enabled:
            # the matching stack only in a process that matches (an HTTP-only one stays lean)
            from collector.worker import run_worker

            def work() -> None:
                try:
                    run_worker(settings, stop)
                except CollectorError as exc:  # a second worker on SQLite: serve goes on without it
                    log.error("matching worker not started: %s", exc)

            worker = threading.Thread(target=work, name="matching-worker", daemon=True)
            worker.start()
        try:
            yield
        finally:
            stop_feed.set()
            await asyncio.gather(*tasks)
            stop.set()
            if worker is not None:
                worker.join(timeout=30)
            engine.dispose()

    app = FastAPI(
        title="SODAV Monitor collector",
        version=shared.__version__,
        description="Receives fingerprints from edge agents, names the music, reports airplay. "
        "Send a token with **Authorize**: a user's (`sdu_…`, from `sodav-collector users add`) "
        "or an agent's (`sda_…`).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    _install_error_handlers(app)
    app.add_middleware(RefuseNul)

    @app.get("/healthz", tags=["ops"], responses=error_responses(422))
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": shared.__version__}

    # the agents' uploads and heartbeats first: the routes matched on nearly every request
    routers = (ingest_router, fleet_router, plays_router, catalog_router, reports_router)
    for router in (*routers, notify_router, fleet_admin_router, live_router, unknowns_router):
        app.include_router(router)
    _describe_wire_bodies(app)
    if settings.metrics.enabled:
        scrape = registry(settings, lambda: getattr(app.state, "sessionmaker", None))
        # Prometheus text, not the JSON API: outside the OpenAPI description (docs/ops/metrics.md)
        app.add_api_route("/metrics", endpoint(settings, scrape), methods=["GET"], include_in_schema=False)
    app.add_middleware(TimingMiddleware)
    install_docs(app)
    install_web(app)  # last: its catch-all serves the app for any path not matched above
    return app


def _describe_wire_bodies(app: FastAPI) -> None:
    """Put the agents' payloads (UploadV1, HeartbeatV1 and the models in them) in the OpenAPI
    description: their endpoints read the raw body (gzip or not) and name them by reference."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (UploadV1, HeartbeatV1, ExcerptV1):
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(body.pop("$defs", {}))
                components[model.__name__] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class RefuseNul:
    """Refuse a NUL character in the path or the query string (``%00``) before any endpoint sees
    it: PostgreSQL cannot store or compare text holding one, so it would fail as a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            response = error_response(
                422, ErrorCode.MALFORMED_PAYLOAD, "the URL holds a NUL character (%00): remove it"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# ---- errors on the wire: every failure answers shared.schemas.ErrorV1 with a stable code ----------


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorV1(code=code, error=code.name, message=message, details=details or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _clean(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in errors[:50]
    ]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CollectorError)
    async def _collector_error(request: Request, exc: CollectorError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status in (401, 403):
            AUTH_FAILURES.labels(exc.code.name, route_of(request.scope)).inc()
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422,
            ErrorCode.MALFORMED_PAYLOAD,
            "the payload does not follow the v1 schema; see details",
            _clean(exc.errors()),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = ErrorCode.NOT_FOUND if exc.status_code == 404 else ErrorCode.MALFORMED_PAYLOAD
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the traceback goes to the log (never the token: headers are not logged)
        errors_log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(
            500,
            ErrorCode.INTERNAL,
            "the collector failed unexpectedly and rolled this request back; retry later "
            "and tell the collector's operators if it persists",
        )
