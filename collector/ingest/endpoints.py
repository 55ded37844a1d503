"""Ingest API v1: uploads and heartbeats from agents."""

from __future__ import annotations

import logging
import zlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from collector import instruments
from collector.db.request import get_session
from collector.errors import InvalidRequest, PayloadTooLarge, error_responses
from collector.fleet.auth import require_agent
from collector.fleet.models import Agent
from collector.fleet.variants import directives_for
from collector.ingest.excerpts import pending_for
from collector.ingest.service import (
    TimeWindow,
    check_scope,
    check_times,
    parse,
    station_ids,
    store_heartbeat,
    store_upload,
)
from shared.schemas import HeartbeatAckV1, HeartbeatV1, UploadAckV1, UploadV1

log = logging.getLogger("collector.ingest")
router = APIRouter(prefix="/api/v1", tags=["ingest"], responses=error_responses(401, 403, 413, 422))


def _body(model: str) -> dict[str, Any]:
    """The request body as the OpenAPI description shows it (the endpoint reads the raw body
    itself, gzip or not, so FastAPI cannot infer it); the app adds the models' schemas."""
    ref = {"$ref": f"#/components/schemas/{model}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


async def _read_body(request: Request) -> bytes:
    limit: int = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes: send smaller batches")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"body over {limit} bytes: send smaller batches")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        return _gunzip(bytes(body), limit)
    return bytes(body)


def _gunzip(body: bytes, limit: int) -> bytes:
    """One whole gzip member, at most ``limit`` bytes once decompressed: a cut trailer, trailing
    bytes or a second member are refused (the agent sends exactly one member)."""
    try:
        dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        raw = dec.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidRequest(f"body is not valid gzip: {exc}") from exc
    if len(raw) > limit:
        raise PayloadTooLarge(f"decompressed body over {limit} bytes")
    if not dec.eof:
        raise InvalidRequest("body is not valid gzip: it ends before the gzip trailer (truncated?)")
    if dec.unused_data:
        raise InvalidRequest("body is not valid gzip: bytes follow the gzip member (send exactly one)")
    return raw


@router.post(
    "/uploads",
    response_model=UploadAckV1,
    summary="Upload fingerprint segments and events",
    openapi_extra=_body("UploadV1"),
)
async def upload(
    request: Request, agent: Agent = Depends(require_agent), session: Session = Depends(get_session)
) -> UploadAckV1:
    raw = await _read_body(request)
    # parsing and the database work are blocking: run them in the thread pool so the event
    # loop keeps reading other agents' bodies meanwhile (bench/ingest, docs/benchmarks.md)
    window = TimeWindow.of(request.app.state.settings)
    return await run_in_threadpool(_store, raw, agent, session, window)


def _store(raw: bytes, agent: Agent, session: Session, window: TimeWindow) -> UploadAckV1:
    payload = parse(UploadV1, raw)
    allowed = station_ids(agent)
    stations = {s.station for s in payload.segments} | {e.station for e in payload.events}
    check_scope(session, agent, payload.agent, stations, allowed)
    check_times(payload, window, datetime.now(UTC))
    result = store_upload(session, agent, payload, allowed)
    directives = directives_for(agent)
    excerpts = pending_for(session, agent)  # audio the recognizers wait for
    session.commit()
    log.info(
        "upload agent=%s batch=%s segments=%d duplicates=%d events=%d",
        agent.name,
        payload.batch_id,
        result.accepted_segments,
        result.duplicate_segments,
        result.accepted_events,
    )
    instruments.upload_received(agent.name, result.accepted_segments)
    return UploadAckV1(
        batch_id=payload.batch_id,
        accepted_segments=result.accepted_segments,
        duplicate_segments=result.duplicate_segments,
        accepted_events=result.accepted_events,
        duplicate_events=result.duplicate_events,
        directives=directives,
        excerpts=excerpts,
    )


@router.post(
    "/heartbeats",
    response_model=HeartbeatAckV1,
    summary="Agent heartbeat",
    openapi_extra=_body("HeartbeatV1"),
)
async def heartbeat(
    request: Request, agent: Agent = Depends(require_agent), session: Session = Depends(get_session)
) -> HeartbeatAckV1:
    hb = parse(HeartbeatV1, await _read_body(request))
    allowed = station_ids(agent)
    check_scope(session, agent, hb.agent, {s.station for s in hb.sources}, allowed)
    received = store_heartbeat(session, agent, hb, allowed)
    directives = directives_for(agent)
    excerpts = pending_for(session, agent)
    session.commit()
    return HeartbeatAckV1(received_at=received, directives=directives, excerpts=excerpts)
