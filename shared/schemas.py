"""Wire schema v1: what agents send to the collector and what it answers.

Every payload names ``schema_version``; the collector refuses versions it does not know
with error code ``UNSUPPORTED_SCHEMA``, and a payload without it. Times are timezone-aware
UTC. Identifiers:

* a segment is identified by (agent, station, seq); re-sending it is harmless;
* an event is identified by (agent, station, kind, seq).

Fingerprints travel as base64 of :mod:`shared.codec` blobs, one per playback-rate variant.
A blob holds at most :func:`shared.codec.max_values` for its segment's duration, starts within its segment,
and one upload carries at most ``MAX_VALUES_PER_BATCH`` values in all: the counts are read
from the blobs' headers before anything is decompressed, so a small body cannot make the
collector decode gigabytes. Text never holds a NUL character (PostgreSQL cannot store it);
numbers are finite and integers fit in 64 bits (the databases' widest integer).

What is received over the network is validated with :func:`wire_context`: it requires
``schema_version`` and counts the values of one upload. Models built in code (the agent's
heartbeat) keep the defaults.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.codec import VALUES_MARGIN, CodecError, DecodedSegment, check_blob, decode, max_values

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_EXCERPT_BYTES",
    "MAX_EXCERPT_SECONDS",
    "MAX_INT64",
    "MAX_SEGMENTS_PER_BATCH",
    "MAX_VALUES_PER_BATCH",
    "SCHEMA_VERSION",
    "SLUG_PATTERN",
    "VALUES_MARGIN",
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
    "check_blob",
    "max_values",
    "no_nul",
    "utc",
    "wire_context",
]

SCHEMA_VERSION = 1
MAX_SEGMENTS_PER_BATCH = 2_000
MAX_BATCH_BYTES = 8 * 1024 * 1024  # decompressed body; the collector answers 413 above
MAX_INT64 = 2**63 - 1  # the widest integer PostgreSQL and SQLite store
# decoded values in one upload (16 MiB): 2,000 ten-second segments at 16 rate variants fit
MAX_VALUES_PER_BATCH = 4 * 1024 * 1024
MAX_EXCERPT_SECONDS = 60.0  # what the collector may ask for at once (AudD reads 12 s of it)
MAX_EXCERPT_BYTES = 1024 * 1024  # Ogg/Opus at the agent's 24 kbit/s: 60 s is ~180 kB


def utc(value: datetime) -> datetime:
    """Reject naive datetimes; normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone (use UTC, e.g. 2026-01-01T00:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first instant Python has
        raise ValueError("timestamp out of range: in UTC it falls outside years 1 to 9999") from None


def no_nul(value: str) -> str:
    """Refuse the NUL character, which PostgreSQL cannot store in text."""
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character (\\u0000)")
    return value


def wire_context() -> dict[str, Any]:
    """The validation context of a payload received over the network (``model_validate_json(raw,
    context=wire_context())``): ``schema_version`` is required, and the values of all its blobs
    are counted against ``MAX_VALUES_PER_BATCH``."""
    return {"wire": True, "values_left": MAX_VALUES_PER_BATCH}


UtcDatetime = Annotated[datetime, AfterValidator(utc)]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"  # rfm-dakar: what a station is called everywhere
StationSlug = Annotated[str, Field(pattern=SLUG_PATTERN)]
Seq = Annotated[int, Field(ge=0, le=MAX_INT64)]
Count = Annotated[int, Field(ge=0, le=MAX_INT64)]


Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(no_nul)]
Short = Annotated[str, Field(max_length=64), AfterValidator(no_nul)]
Title = Annotated[str, Field(max_length=1024), AfterValidator(no_nul)]
Detail = Annotated[str, Field(max_length=2048), AfterValidator(no_nul)]


def _clip(limit: int) -> Callable[[str], str]:
    def clip(value: str) -> str:
        return value.replace("\x00", "")[:limit]

    return clip


# What a stream says about itself (codec name, ICY title, error text) is reported as it comes,
# cut to a length and without NUL: the agent builds its heartbeat with this model, and a
# station's odd metadata must never stop its heartbeats nor have them refused.
StreamShort = Annotated[str, AfterValidator(_clip(64))]
StreamTitle = Annotated[str, AfterValidator(_clip(1024))]
StreamDetail = Annotated[str, AfterValidator(_clip(2048))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Payload(_Model):
    """A top-level payload: over the wire it must name its ``schema_version``."""

    @model_validator(mode="before")
    @classmethod
    def _names_its_version(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context and info.context.get("wire") and isinstance(data, dict):
            if "schema_version" not in data:
                raise ValueError('schema_version is missing: every payload carries "schema_version": 1')
        return data


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
    TIME_OUT_OF_RANGE = 15
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
    seq: Seq = Field(description="per (agent, station) sequence number, never reused")
    start: UtcDatetime
    duration: float = Field(gt=0, le=3600, description="seconds, exact to the sample")
    level_dbfs: float | None = Field(default=None, le=0.0, ge=-200.0)
    fingerprints: list[str] = Field(
        min_length=1, max_length=16, description="base64 shared.codec blobs, one per variant"
    )

    @field_validator("fingerprints")
    @classmethod
    def _valid_blobs(cls, blobs: list[str], info: ValidationInfo) -> list[str]:
        if "duration" not in info.data or "start" not in info.data:
            return blobs  # refused for its duration or start already: nothing worth decoding
        duration: float = info.data["duration"]
        start: datetime = info.data["start"]
        context = info.context if info.context and "values_left" in info.context else None
        rates: set[int] = set()
        for index, blob in enumerate(blobs):
            raw = _b64(blob, index)
            try:
                head = check_blob(raw, start, duration)
            except ValueError as exc:
                raise ValueError(f"fingerprint {index}: {exc}") from None
            if context is not None:
                context["values_left"] -= head.n_values
                if context["values_left"] < 0:
                    raise ValueError(
                        f"fingerprint {index}: more than {MAX_VALUES_PER_BATCH} values in one upload; "
                        "send smaller batches"
                    )
            segment = _decode(raw, index)
            if segment.rate_ppm in rates:
                raise ValueError(f"fingerprint {index}: rate variant {segment.rate_ppm} repeated")
            rates.add(segment.rate_ppm)
        return blobs

    def decoded(self) -> list[DecodedSegment]:
        return [_decode(_b64(blob, i), i) for i, blob in enumerate(self.fingerprints)]


def _b64(blob: str, index: int) -> bytes:
    try:
        return base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"fingerprint {index}: not base64 ({exc})") from exc


def _decode(raw: bytes, index: int) -> DecodedSegment:
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
    seq: Seq
    start: UtcDatetime
    end: UtcDatetime | None = Field(default=None, description="None while still ongoing")
    reason: OutageReason | None = None
    title: Title | None = Field(default=None, description="ICY StreamTitle")
    detail: Detail | None = None


class UploadV1(_Payload):
    """One upload: segments and events from one agent."""

    schema_version: Literal[1] = 1
    agent: Name
    batch_id: Name
    sent_at: UtcDatetime
    segments: list[SegmentV1] = Field(default_factory=list, max_length=MAX_SEGMENTS_PER_BATCH)
    events: list[EventV1] = Field(default_factory=list, max_length=MAX_SEGMENTS_PER_BATCH)

    @model_validator(mode="after")
    def _each_segment_once(self) -> UploadV1:
        seen: dict[tuple[str, int], int] = {}
        for index, seg in enumerate(self.segments):
            first = seen.setdefault((seg.station, seg.seq), index)
            if first != index:
                raise ValueError(
                    f"segments {first} and {index} are both seq {seg.seq} of station {seg.station}: "
                    "a seq is never reused"
                )
        return self


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
    codec: StreamShort | None = None
    sample_rate: int | None = Field(default=None, ge=0, le=10_000_000)
    icy_title: StreamTitle | None = None
    detail: StreamDetail | None = None


class HeartbeatV1(_Payload):
    schema_version: Literal[1] = 1
    agent: Name
    sent_at: UtcDatetime
    agent_version: Short
    queue_depth: Count
    oldest_queued: UtcDatetime | None = None
    last_upload: UtcDatetime | None = None
    clock_offset_ms: float | None = None
    dropped_excerpts: Count = 0
    dropped_fingerprints: Count = 0
    sources: list[SourceStatusV1] = Field(default_factory=list, max_length=1000)


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
