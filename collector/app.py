"""FastAPI application factory. Engines are built in the lifespan, never at import."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import shared
from collector import errors
from collector.db.engine import make_engine, make_sessionmaker
from collector.settings import CollectorSettings

log = logging.getLogger(__name__)

# Each domain that serves HTTP exposes ``router`` in its endpoints module.
ROUTER_MODULES = (
    "collector.ingest.endpoints",
    "collector.catalog.endpoints",
    "collector.reports.endpoints",
)


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
            from collector.matching.worker import run_worker

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
    errors.install(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": shared.__version__}

    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        app.include_router(module.router)
    return app
