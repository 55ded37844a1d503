"""Store what agents send: idempotent, set-based, and without committing (the caller does).

A segment is identified by (agent, station, seq) and an event by (agent, station, kind, seq):
a repeated upload is accepted and ignored; an event copy that now carries ``end`` closes
the stored one. An agent writes only the stations it is assigned, and only times within
:class:`TimeWindow` of the collector's clock.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from collector.errors import CollectorError, InvalidRequest
from collector.fleet import repository as fleet_repository
from collector.fleet.models import Agent
from collector.fleet.service import agent_heard
from collector.ingest import repository
from collector.ingest.models import Event, Heartbeat, Segment, SegmentFingerprint
from collector.settings import CollectorSettings
from shared.codec import encode, rate_ppm_of
from shared.schemas import ErrorCode, HeartbeatV1, UploadV1, wire_context
from shared.segmenter import Segment as SegmentOut

Payload = TypeVar("Payload", bound=BaseModel)


class UnsupportedSchema(InvalidRequest):
    code = ErrorCode.UNSUPPORTED_SCHEMA


class InvalidFingerprint(InvalidRequest):
    code = ErrorCode.INVALID_FINGERPRINT


class ForbiddenStation(CollectorError):
    status = 403
    code = ErrorCode.FORBIDDEN_STATION


class UnknownStation(CollectorError):
    status = 403
    code = ErrorCode.UNKNOWN_STATION


class TimeOutOfRange(InvalidRequest):
    code = ErrorCode.TIME_OUT_OF_RANGE


@dataclass(frozen=True)
class TimeWindow:
    """The times an upload may carry: from ``max_age`` before the collector's clock to
    ``max_ahead`` after it (``[ingest]`` settings). Outside it, the box's clock is wrong or the
    data is too old to be reported on; and a time near year 1 or 9999 would break every
    computation made with it."""

    max_age: timedelta
    max_ahead: timedelta

    @classmethod
    def of(cls, settings: CollectorSettings) -> TimeWindow:
        return cls(
            timedelta(days=settings.ingest.max_age_days), timedelta(seconds=settings.ingest.max_ahead_s)
        )

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        return now - self.max_age, now + self.max_ahead

    def outside(self, when: datetime, now: datetime) -> str | None:
        """Why ``when`` is refused, or None."""
        lo, hi = self.bounds(now)
        if lo <= when <= hi:
            return None
        return (
            f"{when.isoformat()} is outside the window this collector accepts, "
            f"{lo.isoformat(timespec='seconds')} to {hi.isoformat(timespec='seconds')} "
            f"({self.max_age.days} days before its clock to {self.max_ahead.total_seconds():.0f} s after)"
        )


def check_times(upload: UploadV1, window: TimeWindow, now: datetime) -> None:
    """Every segment and event time lies within the window, else nothing of the upload is stored."""
    details: list[dict[str, Any]] = []

    def check(when: datetime | None, *loc: str | int) -> None:
        why = window.outside(when, now) if when is not None else None
        if why is not None:
            details.append({"loc": [str(p) for p in loc], "msg": why, "type": "time_out_of_range"})

    for i, seg in enumerate(upload.segments):
        check(seg.start, "segments", i, "start")
    for i, ev in enumerate(upload.events):
        check(ev.start, "events", i, "start")
        check(ev.end, "events", i, "end")
    if details:
        raise TimeOutOfRange(
            f"{len(details)} time(s) of this upload are outside the window the collector accepts: "
            "the box's clock is wrong (set it by NTP; `sodav-agent status` shows the offset), or the "
            "data is older than the collector keeps; see details",
            details[:50],
        )


def parse(model: type[Payload], raw: bytes) -> Payload:
    """The payload as ``model``; a body that does not follow the v1 schema says where it fails."""
    try:
        return model.model_validate_json(raw, context=wire_context())
    except ValidationError as exc:
        details: list[dict[str, Any]] = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()[:50]
        ]
        if any(d["loc"] == ["schema_version"] for d in details):
            raise UnsupportedSchema("unsupported schema_version: this collector speaks v1", details) from None
        error = InvalidFingerprint if any("fingerprint" in d["msg"] for d in details) else InvalidRequest
        raise error("the payload does not follow the v1 schema; see details", details) from None


def station_ids(agent: Agent) -> dict[str, int]:
    """The stations the agent may write, slug to id."""
    return {s.slug: s.id for s in agent.stations}


def check_scope(
    session: Session, agent: Agent, claimed_agent: str, stations: set[str], allowed: dict[str, int]
) -> None:
    """The payload is the token's agent's, about its own stations; else say whose and which."""
    if claimed_agent != agent.name:
        raise ForbiddenStation(f"this token belongs to agent {agent.name!r}, not {claimed_agent!r}")
    foreign = sorted(stations - set(allowed))
    known = set(fleet_repository.station_ids(session, foreign)) if foreign else set()
    unknown = [slug for slug in foreign if slug not in known]
    if unknown:
        raise UnknownStation(
            f"station(s) {unknown} do not exist on this collector: check `slug` in agent.toml, "
            "or ask an admin to run `sodav-collector stations add SLUG`"
        )
    if foreign:
        raise ForbiddenStation(
            f"agent {agent.name!r} may not write stations {foreign}: ask an admin to assign them"
        )


@dataclass
class StoreResult:
    accepted_segments: int = 0
    duplicate_segments: int = 0
    accepted_events: int = 0
    duplicate_events: int = 0


def store_upload(session: Session, agent: Agent, upload: UploadV1, allowed: dict[str, int]) -> StoreResult:
    """Insert segments/fingerprints/events. ``allowed`` maps the agent's station slugs to ids."""
    now = datetime.now(UTC)
    result = StoreResult()
    if upload.segments:
        rows = [
            {
                "agent_id": agent.id,
                "station_id": allowed[s.station],
                "seq": s.seq,
                "start": s.start,
                "duration": s.duration,
                "level_dbfs": s.level_dbfs,
                "received_at": now,
                "status": "new",
            }
            for s in upload.segments
        ]
        inserted = repository.insert_new_segments(session, rows)
        fp_rows = []
        for s in upload.segments:
            seg_id = inserted.get((allowed[s.station], s.seq))
            if seg_id is None:
                continue
            # the blobs were decoded and checked once, by the schema's validation: only the
            # header's rate is read here (decoding twice cost a third of the ingest CPU)
            for blob in s.fingerprints:
                data = base64.b64decode(blob)
                fp_rows.append(
                    {
                        "segment_id": seg_id,
                        "segment_start": s.start,
                        "rate_ppm": rate_ppm_of(data),
                        "data": data,
                    }
                )
        if fp_rows:
            repository.insert_fingerprints(session, fp_rows)
        result.accepted_segments = len(inserted)
        result.duplicate_segments = len(upload.segments) - len(inserted)
    for ev in upload.events:
        existing = repository.event(session, agent.id, allowed[ev.station], ev.kind.value, ev.seq)
        if existing is None:
            session.add(
                Event(
                    agent_id=agent.id,
                    station_id=allowed[ev.station],
                    kind=ev.kind.value,
                    seq=ev.seq,
                    start=ev.start,
                    end=ev.end,
                    reason=ev.reason.value if ev.reason else None,
                    title=ev.title,
                    detail=ev.detail,
                    received_at=now,
                )
            )
            result.accepted_events += 1
        elif existing.end is None and ev.end is not None:
            existing.end = ev.end
            existing.detail = ev.detail or existing.detail
            result.accepted_events += 1
        else:
            result.duplicate_events += 1
    session.flush()
    return result


def store_heartbeat(session: Session, agent: Agent, hb: HeartbeatV1, allowed: dict[str, int]) -> datetime:
    """Keep the heartbeat, and let the fleet know the agent and its stations' states."""
    now = datetime.now(UTC)
    session.add(
        Heartbeat(agent_id=agent.id, received_at=now, sent_at=hb.sent_at, payload=hb.model_dump(mode="json"))
    )
    agent_heard(session, agent, hb.agent_version, hb.sources, allowed, now)
    return now


def store_segments(
    session: Session, agent_id: int, station_id: int, first_seq: int, segments: Iterable[SegmentOut]
) -> int:
    """Store segments made on the collector itself (offline analysis), numbered from ``first_seq``;
    return the next number."""
    seq = first_seq
    for out in segments:
        seg = Segment(
            agent_id=agent_id,
            station_id=station_id,
            seq=seq,
            start=out.start,
            duration=out.duration,
            level_dbfs=out.level_dbfs,
            status="new",
        )
        seg.fingerprints = [
            SegmentFingerprint(rate_ppm=fp.rate_ppm, data=encode(fp)) for fp in out.fingerprints
        ]
        session.add(seg)
        seq += 1
    session.flush()
    return seq
