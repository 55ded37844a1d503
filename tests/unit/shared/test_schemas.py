from __future__ import annotations

import base64
from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import ValidationError

from shared.codec import FingerprintSegment, encode
from shared.schemas import SegmentV1, UploadV1


def _blob(rate_ppm: int = 0) -> str:
    seg = FingerprintSegment(np.arange(80, dtype=np.uint32), datetime.now(UTC), 11025, 110250, rate_ppm)
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
