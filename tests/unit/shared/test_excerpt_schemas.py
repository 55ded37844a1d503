"""The excerpt messages of wire schema v1: what each side may send, and what is refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.schemas import (
    ExcerptGone,
    ExcerptRequestV1,
    ExcerptV1,
    HeartbeatAckV1,
    UploadAckV1,
)

T = datetime(2026, 11, 26, 6, 41, 20, tzinfo=UTC)
OGG = base64.b64encode(b"OggS" + bytes(100)).decode()


def test_a_request_is_a_short_span_of_one_station() -> None:
    req = ExcerptRequestV1(id="c812-1", station="rfm-dakar", start=T, end=T + timedelta(seconds=20))
    assert req.end - req.start == timedelta(seconds=20)
    for end in (T, T - timedelta(seconds=1), T + timedelta(seconds=61)):
        with pytest.raises(ValidationError, match="lasts at most 60 s"):
            ExcerptRequestV1(id="c812-1", station="rfm-dakar", start=T, end=end)
    with pytest.raises(ValidationError):
        ExcerptRequestV1(id="no spaces", station="rfm-dakar", start=T, end=T + timedelta(seconds=5))


def test_acks_carry_requests_and_default_to_none() -> None:
    req = {"id": "c1", "station": "rfm", "start": "2026-11-26T06:41:20Z", "end": "2026-11-26T06:41:40Z"}
    hb = HeartbeatAckV1.model_validate({"received_at": "2026-11-26T07:00:00Z", "excerpts": [req]})
    assert hb.excerpts[0].id == "c1"
    up = UploadAckV1(
        batch_id="b", accepted_segments=0, duplicate_segments=0, accepted_events=0, duplicate_events=0
    )
    assert up.excerpts == [] and HeartbeatAckV1(received_at=T).excerpts == []


def test_an_answer_is_audio_or_gone_never_both_or_neither() -> None:
    ok = ExcerptV1(
        agent="box", request="c1", station="rfm", start=T, end=T + timedelta(seconds=20), audio=OGG
    )
    assert ok.gone is None
    gone = ExcerptV1(agent="box", request="c1", station="rfm", gone="expired", kept_from=T)
    assert gone.gone is ExcerptGone.EXPIRED and gone.audio is None
    with pytest.raises(ValidationError, match="either audio"):
        ExcerptV1(agent="box", request="c1", station="rfm")
    with pytest.raises(ValidationError, match="either audio"):
        ExcerptV1(agent="box", request="c1", station="rfm", gone="expired", start=T, end=T, audio=OGG)
    with pytest.raises(ValidationError, match="either audio"):
        ExcerptV1(agent="box", request="c1", station="rfm", audio=OGG)  # audio without its span
    with pytest.raises(ValidationError, match="an Ogg file"):
        ExcerptV1(
            agent="box", request="c1", station="rfm", start=T, end=T, audio=base64.b64encode(b"RIFF").decode()
        )
    with pytest.raises(ValidationError, match="not base64"):
        ExcerptV1(agent="box", request="c1", station="rfm", start=T, end=T, audio="***")
