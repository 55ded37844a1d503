"""Wire schema v1: what agents send to the collector and what it answers.

Every payload names ``schema_version``; the collector refuses versions it does not know
with error code ``UNSUPPORTED_SCHEMA``. Times are timezone-aware UTC. Identifiers:

* a segment is identified by (agent, station, seq); re-sending it is harmless;
* an event is identified by (agent, station, kind, seq).

Fingerprints travel as base64 of :mod:`shared.codec` blobs, one per playback-rate variant.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.codec import CodecError, DecodedSegment, decode

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_EXCERPT_BYTES",
    "MAX_EXCERPT_SECONDS",
    "MAX_SEGMENTS_PER_BATCH",
    "SCHEMA_VERSION",
    "AgentDirectiveV1",
    "ErrorCode",
    "ErrorV1",
    "EventKind",
    "EventV1",
    "ExcerptAckV1",
    "ExcerptGone",
    "ExcerptRequestV1",
    "ExcerptV1",
    "HeartbeatAckV1",
    "HeartbeatV1",
    "OutageReason",
    "SegmentV1",
    "SourceState",
    "SourceStatusV1",
    "StationSlug",
    "UploadAckV1",
    "UploadV1",
    "utc",
]

SCHEMA_VERSION = 1
MAX_SEGMENTS_PER_BATCH = 2_000
MAX_BATCH_BYTES = 8 * 1024 * 1024  # decompressed body; the collector answers 413 above
MAX_EXCERPT_SECONDS = 60.0  # what the collector may ask for at once (AudD reads 12 s of it)
MAX_EXCERPT_BYTES = 1024 * 1024  # Ogg/Opus at the agent's 24 kbit/s: 60 s is ~180 kB


def utc(value: datetime) -> datetime:
    """Reject naive datetimes; normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone (use UTC, e.g. 2026-01-01T00:00:00Z)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(utc)]
StationSlug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorCode(IntEnum):
    """Stable numeric error codes on the wire. Never renumber; only append."""

    MALFORMED_PAYLOAD = 1
    UNSUPPORTED_SCHEMA = 2
    INVALID_FINGERPRINT = 3
    MISSING_TOKEN = 4
    INVALID_TOKEN = 5
    REVOKED_TOKEN = 6
    FORBIDDEN_STATION = 7
    PAYLOAD_TOO_LARGE = 8
    UNKNOWN_STATION = 9
    INVALID_ENROLLMENT_CODE = 10
    FORBIDDEN_ROLE = 11
    NOT_FOUND = 12
    CONFLICT = 13
    RATE_LIMITED = 14
    INTERNAL = 99


class ErrorV1(_Model):
    """Body of every error answer."""

    code: ErrorCode
    error: str = Field(description="machine name of the code, e.g. INVALID_TOKEN")
    message: str = Field(description="human explanation with what to do next")
    details: list[dict[str, Any]] = Field(default_factory=list)


class SegmentV1(_Model):
    """One stretch of one station's audio, fingerprinted at one or more rate variants."""

    station: StationSlug
    seq: int = Field(ge=0, description="per (agent, station) sequence number, never reused")
    start: UtcDatetime
    duration: float = Field(gt=0, le=3600, description="seconds, exact to the sample")
    level_dbfs: float | None = Field(default=None, le=0.0, ge=-200.0)
    fingerprints: list[str] = Field(
        min_length=1, max_length=16, description="base64 shared.codec blobs, one per variant"
    )

    @field_validator("fingerprints")
    @classmethod
    def _valid_blobs(cls, blobs: list[str]) -> list[str]:
        rates: set[int] = set()
        for index, blob in enumerate(blobs):
            segment = _decode_b64(blob, index)
            if segment.rate_ppm in rates:
                raise ValueError(f"fingerprint {index}: rate variant {segment.rate_ppm} repeated")
            rates.add(segment.rate_ppm)
        return blobs

    def decoded(self) -> list[DecodedSegment]:
        return [_decode_b64(blob, i) for i, blob in enumerate(self.fingerprints)]


def _decode_b64(blob: str, index: int) -> DecodedSegment:
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"fingerprint {index}: not base64 ({exc})") from exc
    try:
        return decode(raw)
    except CodecError as exc:
        raise ValueError(f"fingerprint {index}: {exc}") from exc


class EventKind(StrEnum):
    OUTAGE = "outage"
    SILENCE = "silence"
    METADATA = "metadata"


class OutageReason(StrEnum):
    DISCONNECTED = "disconnected"  # EOF, connection reset, HTTP error
    STALLED = "stalled"  # connected but no audio for too long
    UNREACHABLE = "unreachable"  # DNS, refused, timeout at connect
    DECODE_ERROR = "decode_error"  # the stream could not be decoded at all
    DEVICE_ERROR = "device_error"  # sound card missing or failing
    AGENT_STOPPED = "agent_stopped"  # the agent was not running


class EventV1(_Model):
    """An outage, a silence, or an ICY title change on one station."""

    station: StationSlug
    kind: EventKind
    seq: int = Field(ge=0)
    start: UtcDatetime
    end: UtcDatetime | None = Field(default=None, description="None while still ongoing")
    reason: OutageReason | None = None
    title: str | None = Field(default=None, max_length=1024, description="ICY StreamTitle")
    detail: str | None = Field(default=None, max_length=2048)


class UploadV1(_Model):
    """One upload: segments and events from one agent."""

    schema_version: Literal[1] = 1
    agent: str = Field(min_length=1, max_length=64)
    batch_id: str = Field(min_length=1, max_length=64)
    sent_at: UtcDatetime
    segments: list[SegmentV1] = Field(default_factory=list, max_length=MAX_SEGMENTS_PER_BATCH)
    events: list[EventV1] = Field(default_factory=list, max_length=MAX_SEGMENTS_PER_BATCH)


class AgentDirectiveV1(_Model):
    """What the collector asks of an agent for one station."""

    station: StationSlug
    rate_variants_ppm: list[int] = Field(
        default_factory=lambda: [0], description="playback-rate variants to fingerprint"
    )


class ExcerptRequestV1(_Model):
    """The collector asks an agent for the audio of ``station`` from ``start`` to ``end``.

    Sent in every acknowledgement (upload and heartbeat) until the agent answers
    ``POST /api/v1/excerpts`` with the same ``id``; asking again is harmless."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    station: StationSlug
    start: UtcDatetime
    end: UtcDatetime

    @field_validator("end")
    @classmethod
    def _span(cls, end: datetime, info: Any) -> datetime:
        start = info.data.get("start")
        if start is not None and not 0 < (end - start).total_seconds() <= MAX_EXCERPT_SECONDS:
            raise ValueError(f"an excerpt ends after its start and lasts at most {MAX_EXCERPT_SECONDS:g} s")
        return end


class UploadAckV1(_Model):
    batch_id: str
    accepted_segments: int
    duplicate_segments: int
    accepted_events: int
    duplicate_events: int
    directives: list[AgentDirectiveV1] = Field(default_factory=list)
    excerpts: list[ExcerptRequestV1] = Field(default_factory=list, description="audio the collector asks for")


class SourceState(StrEnum):
    STARTING = "starting"
    OK = "ok"
    SILENT = "silent"
    NO_SIGNAL = "no_signal"
    DOWN = "down"


class SourceStatusV1(_Model):
    station: StationSlug
    state: SourceState
    since: UtcDatetime
    level_dbfs: float | None = None
    codec: str | None = None
    sample_rate: int | None = None
    icy_title: str | None = None
    detail: str | None = None


class HeartbeatV1(_Model):
    schema_version: Literal[1] = 1
    agent: str = Field(min_length=1, max_length=64)
    sent_at: UtcDatetime
    agent_version: str = Field(max_length=64)
    queue_depth: int = Field(ge=0)
    oldest_queued: UtcDatetime | None = None
    last_upload: UtcDatetime | None = None
    clock_offset_ms: float | None = None
    dropped_excerpts: int = 0
    dropped_fingerprints: int = 0
    sources: list[SourceStatusV1] = Field(default_factory=list)


class HeartbeatAckV1(_Model):
    received_at: UtcDatetime
    directives: list[AgentDirectiveV1] = Field(default_factory=list)
    excerpts: list[ExcerptRequestV1] = Field(default_factory=list, description="audio the collector asks for")


class ExcerptGone(StrEnum):
    """Why an agent has no audio for an excerpt request: a final answer, never retried."""

    EXPIRED = "expired"  # older than the agent keeps (buffer.excerpt_hours)
    NOT_CAPTURED = "not_captured"  # within the kept hours, but the station was not captured then
    DISABLED = "disabled"  # this agent keeps no excerpts (buffer.excerpt_hours = 0)


class ExcerptV1(_Model):
    """An agent's answer to an :class:`ExcerptRequestV1`: the audio (Ogg/Opus), or why it is gone.

    ``start``/``end`` say what the audio covers (a part of the request when only a part is kept);
    ``kept_from``/``kept_to`` what the agent keeps for the station, when it is gone."""

    schema_version: Literal[1] = 1
    agent: str = Field(min_length=1, max_length=64)
    request: str = Field(min_length=1, max_length=64)
    station: StationSlug
    gone: ExcerptGone | None = None
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    audio: str | None = Field(default=None, description="base64 of an Ogg/Opus file")
    kept_from: UtcDatetime | None = None
    kept_to: UtcDatetime | None = None

    @field_validator("audio")
    @classmethod
    def _audio(cls, audio: str | None) -> str | None:
        if audio is None:
            return None
        try:
            raw = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"audio: not base64 ({exc})") from exc
        if len(raw) > MAX_EXCERPT_BYTES or raw[:4] != b"OggS":
            raise ValueError(f"audio: an Ogg file of at most {MAX_EXCERPT_BYTES} bytes")
        return audio

    @model_validator(mode="after")
    def _answer(self) -> ExcerptV1:
        has_audio = self.audio is not None and self.start is not None and self.end is not None
        if (self.gone is None) != has_audio:
            raise ValueError("an excerpt carries either audio with its start and end, or why it is gone")
        return self


class ExcerptAckV1(_Model):
    request: str
    stored: bool = Field(description="False: the collector no longer wants it (answered, or cancelled)")
