"""Ingest API v1: uploads, heartbeats, enrollment, the agent's own view, station status."""

from __future__ import annotations

import importlib
import logging
import zlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.errors import ApiError
from collector.fleet.auth import get_session, require_agent, require_role
from collector.fleet.models import Agent, Station, User
from collector.fleet.service import FleetError, enroll
from collector.ingest.service import station_ids, station_statuses, store_heartbeat, store_upload
from shared.schemas import AgentDirectiveV1, ErrorCode, HeartbeatAckV1, HeartbeatV1, UploadAckV1, UploadV1

log = logging.getLogger("collector.ingest")
router = APIRouter(prefix="/api/v1", tags=["ingest"])


async def _read_body(request: Request) -> bytes:
    limit: int = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"body over {limit} bytes: send smaller batches")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"body over {limit} bytes: send smaller batches")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = dec.decompress(bytes(body), limit + 1)
        except zlib.error as exc:
            raise ApiError(422, ErrorCode.MALFORMED_PAYLOAD, f"body is not valid gzip: {exc}") from exc
        if len(raw) > limit:
            raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"decompressed body over {limit} bytes")
        return raw
    return bytes(body)


def _parse(model: type[BaseModel], raw: bytes) -> Any:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        details = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()[:50]
        ]
        if any(d["loc"] == ["schema_version"] for d in details):
            raise ApiError(
                422,
                ErrorCode.UNSUPPORTED_SCHEMA,
                "unsupported schema_version: this collector speaks v1",
                details,
            ) from None
        code = (
            ErrorCode.INVALID_FINGERPRINT
            if any("fingerprint" in d["msg"] for d in details)
            else ErrorCode.MALFORMED_PAYLOAD
        )
        raise ApiError(422, code, "the payload does not follow the v1 schema; see details", details) from None


def _check_scope(
    session: Session, agent: Agent, claimed_agent: str, stations: set[str], allowed: dict[str, int]
) -> None:
    if claimed_agent != agent.name:
        raise ApiError(
            403,
            ErrorCode.FORBIDDEN_STATION,
            f"this token belongs to agent {agent.name!r}, not {claimed_agent!r}",
        )
    foreign = sorted(stations - set(allowed))
    known = set(session.scalars(select(Station.slug).where(Station.slug.in_(foreign)))) if foreign else set()
    unknown = [slug for slug in foreign if slug not in known]
    if unknown:
        raise ApiError(
            403,
            ErrorCode.UNKNOWN_STATION,
            f"station(s) {unknown} do not exist on this collector: check `slug` in agent.toml, "
            "or ask an admin to run `sodav-collector stations add SLUG`",
        )
    if foreign:
        raise ApiError(
            403,
            ErrorCode.FORBIDDEN_STATION,
            f"agent {agent.name!r} may not write stations {foreign}: ask an admin to assign them",
        )


def directives(session: Session, agent: Agent) -> list[AgentDirectiveV1]:
    try:
        rates = importlib.import_module("collector.matching.rates")
    except ModuleNotFoundError:
        return []
    result: list[AgentDirectiveV1] = rates.directives_for(session, agent)
    return result


@router.post("/uploads", response_model=UploadAckV1, summary="Upload fingerprint segments and events")
async def upload(
    request: Request, agent: Agent = Depends(require_agent), session: Session = Depends(get_session)
) -> UploadAckV1:
    raw = await _read_body(request)
    # parsing and the database work are blocking: run them in the thread pool so the event
    # loop keeps reading other agents' bodies meanwhile (bench/ingest, docs/benchmarks.md)
    return await run_in_threadpool(_store, raw, agent, session)


def _store(raw: bytes, agent: Agent, session: Session) -> UploadAckV1:
    payload: UploadV1 = _parse(UploadV1, raw)
    allowed = station_ids(session, agent)
    stations = {s.station for s in payload.segments} | {e.station for e in payload.events}
    _check_scope(session, agent, payload.agent, stations, allowed)
    result = store_upload(session, agent, payload, allowed)
    dirs = directives(session, agent)
    session.commit()
    log.info(
        "upload agent=%s batch=%s segments=%d duplicates=%d events=%d",
        agent.name,
        payload.batch_id,
        result.accepted_segments,
        result.duplicate_segments,
        result.accepted_events,
    )
    return UploadAckV1(
        batch_id=payload.batch_id,
        accepted_segments=result.accepted_segments,
        duplicate_segments=result.duplicate_segments,
        accepted_events=result.accepted_events,
        duplicate_events=result.duplicate_events,
        directives=dirs,
    )


@router.post("/heartbeats", response_model=HeartbeatAckV1, summary="Agent heartbeat")
async def heartbeat(
    request: Request, agent: Agent = Depends(require_agent), session: Session = Depends(get_session)
) -> HeartbeatAckV1:
    hb: HeartbeatV1 = _parse(HeartbeatV1, await _read_body(request))
    allowed = station_ids(session, agent)
    _check_scope(session, agent, hb.agent, {s.station for s in hb.sources}, allowed)
    received = store_heartbeat(session, agent, hb, allowed)
    dirs = directives(session, agent)
    session.commit()
    return HeartbeatAckV1(received_at=received, directives=dirs)


class EnrollRequest(BaseModel):
    code: str


class EnrollResponse(BaseModel):
    agent: str
    token: str
    stations: list[str]


@router.post(
    "/enroll", response_model=EnrollResponse, summary="Exchange an enrollment code for an agent token"
)
def enroll_agent(body: EnrollRequest, session: Session = Depends(get_session)) -> EnrollResponse:
    try:
        agent, token = enroll(session, body.code)
    except FleetError as exc:
        raise ApiError(401, ErrorCode.INVALID_ENROLLMENT_CODE, str(exc)) from None
    stations = sorted(s.slug for s in agent.stations)
    session.commit()
    log.info("agent enrolled agent=%s stations=%s", agent.name, ",".join(stations))
    return EnrollResponse(agent=agent.name, token=token, stations=stations)


class AgentMe(BaseModel):
    agent: str
    stations: list[str]


@router.get("/agents/me", response_model=AgentMe, summary="Who this agent token belongs to")
def agents_me(agent: Agent = Depends(require_agent)) -> AgentMe:
    return AgentMe(agent=agent.name, stations=sorted(s.slug for s in agent.stations))


class StationStatusOut(BaseModel):
    station: str
    name: str
    state: str
    since: str | None
    detail: str | None
    level_dbfs: float | None
    last_heartbeat_at: str | None


@router.get(
    "/stations/status", response_model=list[StationStatusOut], summary="Derived state of every station"
)
def stations_status(
    request: Request, _user: User = Depends(require_role("analyst")), session: Session = Depends(get_session)
) -> list[StationStatusOut]:
    from datetime import timedelta

    offline = timedelta(seconds=request.app.state.settings.agent_offline_after_s)
    return [
        StationStatusOut(
            station=v.station,
            name=v.name,
            state=v.state,
            since=v.since.isoformat() if v.since else None,
            detail=v.detail,
            level_dbfs=v.level_dbfs,
            last_heartbeat_at=v.last_heartbeat_at.isoformat() if v.last_heartbeat_at else None,
        )
        for v in station_statuses(session, offline)
    ]
