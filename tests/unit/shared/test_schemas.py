from __future__ import annotations

import base64
from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import ValidationError

from shared.codec import FingerprintSegment, encode
from shared.schemas import MAX_VALUES_PER_BATCH, HeartbeatV1, SegmentV1, UploadV1, max_values, wire_context

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _blob(rate_ppm: int = 0, values: int = 80, start: datetime = T0) -> str:
    seg = FingerprintSegment(np.arange(values, dtype=np.uint32), start, 11025, 110250, rate_ppm)
    return base64.b64encode(encode(seg)).decode()


def _upload(**over: object) -> dict[str, object]:
    segment = {
        "station": "rfm-dakar",
        "seq": 1,
        "start": "2026-01-01T00:00:00Z",
        "duration": 10.0,
        "fingerprints": [_blob(0), _blob(20000)],
    }
    segment.update(over)
    return {"agent": "a1", "batch_id": "b1", "sent_at": "2026-01-01T00:00:10Z", "segments": [segment]}


def test_valid_upload_parses_and_decodes() -> None:
    up = UploadV1.model_validate(_upload())
    seg = up.segments[0]
    assert seg.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert [d.rate_ppm for d in seg.decoded()] == [0, 20000]
    assert up.schema_version == 1


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"start": "2026-01-01T00:00:00"}, "timezone"),
        ({"fingerprints": ["not base64!"]}, "base64"),
        ({"fingerprints": [base64.b64encode(b"SFP1junk").decode()]}, "truncated"),
        ({"fingerprints": [_blob(0), _blob(0)]}, "repeated"),
        ({"station": "Bad Slug"}, "pattern"),
        ({"duration": -1}, "greater than"),
        ({"unexpected": 1}, "Extra inputs"),
        ({"fingerprints": [_blob(values=110)]}, "110 values for a 10.0 s segment"),
        ({"fingerprints": [_blob(start=datetime(2026, 1, 2, tzinfo=UTC))]}, "outside its segment"),
        ({"seq": 2**63}, "less than or equal"),
        ({"level_dbfs": float("nan")}, "finite"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "out of range"),
    ],
)
def test_malformed_segments_are_rejected_with_a_reason(over: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        UploadV1.model_validate(_upload(**over))


def test_unknown_schema_version_is_rejected() -> None:
    data = _upload()
    data["schema_version"] = 2
    with pytest.raises(ValidationError):
        UploadV1.model_validate(data)


def test_segment_json_round_trip() -> None:
    seg = UploadV1.model_validate(_upload()).segments[0]
    again = SegmentV1.model_validate_json(seg.model_dump_json())
    assert again == seg


def test_values_allowed_follow_chromaprints_rate_with_a_margin() -> None:
    # one value per 0.1238 s: 80.7 in 10 s, 25 % more and 8 at the edges
    assert max_values(10.0) == 109
    assert max_values(10.0, 40000) > max_values(10.0) > max_values(10.0, -40000)
    assert max_values(3600.0) == 36_355


def test_the_wire_counts_values_per_upload_and_requires_schema_version() -> None:
    data = _upload()  # without schema_version
    UploadV1.model_validate(data)  # built in code: the default applies
    with pytest.raises(ValidationError, match="schema_version is missing"):
        UploadV1.model_validate(data, context=wire_context())
    data["schema_version"] = 1
    context = wire_context()
    UploadV1.model_validate(data, context=context)
    assert context["values_left"] == MAX_VALUES_PER_BATCH - 160
    with pytest.raises(ValidationError, match="values in one upload"):
        UploadV1.model_validate(data, context={"wire": True, "values_left": 100})


def test_text_never_holds_nul_and_integers_fit_64_bits() -> None:
    hb = {"schema_version": 1, "agent": "a", "sent_at": T0, "agent_version": "1\x00", "queue_depth": 0}
    with pytest.raises(ValidationError, match="NUL"):
        HeartbeatV1.model_validate(hb)
    with pytest.raises(ValidationError, match="less than or equal"):
        HeartbeatV1.model_validate(hb | {"agent_version": "1", "queue_depth": 2**63})
    with pytest.raises(ValidationError, match="finite"):
        HeartbeatV1.model_validate(hb | {"agent_version": "1", "clock_offset_ms": float("inf")})
    dup = _upload()
    dup["segments"] = [*dup["segments"], *dup["segments"]]  # type: ignore[misc]
    with pytest.raises(ValidationError, match="both seq 1 of station rfm-dakar"):
        UploadV1.model_validate(dup)
