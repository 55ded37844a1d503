"""FastAPI application factory. Engines are built in the lifespan, never at import."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import shared
from collector.catalog.endpoints import router as catalog_router
from collector.db.engine import make_engine, make_sessionmaker
from collector.errors import CollectorError
from collector.fleet.endpoints import router as fleet_router
from collector.ingest.endpoints import router as ingest_router
from collector.ingest.excerpt_endpoints import router as excerpt_router
from collector.reports.endpoints import router as reports_router
from collector.settings import CollectorSettings
from shared.schemas import ErrorCode, ErrorV1

log = logging.getLogger(__name__)
errors_log = logging.getLogger("collector.errors")


def create_app(settings: CollectorSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        log.info("collector started on %s", engine.url.render_as_string(hide_password=True))
        stop = threading.Event()
        worker = None
        if settings.worker.enabled:
            # the matching stack only in a process that matches (an HTTP-only one stays lean)
            from collector.worker import run_worker

            worker = threading.Thread(
                target=run_worker, args=(settings, stop), name="matching-worker", daemon=True
            )
            worker.start()
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                worker.join(timeout=30)
            engine.dispose()

    app = FastAPI(
        title="SODAV Monitor collector",
        version=shared.__version__,
        description="Receives fingerprints from edge agents, names the music, reports airplay.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    _install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": shared.__version__}

    # the agents' uploads and heartbeats first: the routes matched on nearly every request
    for router in (ingest_router, fleet_router, catalog_router, reports_router, excerpt_router):
        app.include_router(router)
    return app


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
    async def _collector_error(_request: Request, exc: CollectorError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
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
