"""Catalog API: admins add recordings one by one; analysts look them up.

``POST /api/v1/catalog/recordings`` takes a multipart form: the audio ``file`` and the same
fields as a catalog CSV row. The file is fingerprinted with the agent's Chromaprint code
(in the request's worker thread, off the event loop) and upserted by ``external_id`` exactly
as ``sodav-collector catalog import`` does; the matching worker picks the change up at its
next cycle.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel
from sqlalchemy.orm import Session

from collector.catalog import repository, service
from collector.catalog.models import Recording
from collector.catalog.service import OPTIONAL, upload_external_id, upload_metadata
from collector.db.request import get_session
from collector.errors import InvalidRequest, NotFound, PayloadTooLarge, error_responses
from collector.fleet.auth import require_role
from collector.fleet.models import User

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"], responses=error_responses(401, 403, 404, 422))

MAX_AUDIO_BYTES = 512 * 1024 * 1024
MAX_OFFSET = 2**31 - 1  # far beyond any catalog, well within the databases' integers


class RecordingV1(BaseModel):
    external_id: str
    title: str
    artist: str
    isrc: str | None = None
    iswc: str | None = None
    album: str | None = None
    label: str | None = None
    composer: str | None = None
    publisher: str | None = None
    year: int | None = None
    duration: float


class RecordingPutV1(BaseModel):
    outcome: str
    recording: RecordingV1


class RecordingPageV1(BaseModel):
    total: int
    items: list[RecordingV1]


def _out(rec: Recording) -> RecordingV1:
    return RecordingV1.model_validate(rec, from_attributes=True)


@router.post(
    "/recordings",
    response_model=RecordingPutV1,
    summary="Add or update one recording (admin)",
    responses=error_responses(413),
)
def put_recording(
    file: Annotated[UploadFile, File(description="the recording's audio, any format ffmpeg reads")],
    external_id: Annotated[str, Form(min_length=1, max_length=100)],
    title: Annotated[str, Form(min_length=1)],
    artist: Annotated[str, Form(min_length=1)],
    isrc: Annotated[str | None, Form()] = None,
    iswc: Annotated[str | None, Form()] = None,
    album: Annotated[str | None, Form()] = None,
    label: Annotated[str | None, Form()] = None,
    composer: Annotated[str | None, Form()] = None,
    publisher: Annotated[str | None, Form()] = None,
    year: Annotated[str | None, Form()] = None,
    session: Session = Depends(get_session),
    _admin: User = Depends(require_role("admin")),
) -> RecordingPutV1:
    row = {"title": title, "artist": artist}
    given = dict(zip(OPTIONAL, (isrc, iswc, album, label, composer, publisher, year), strict=True))
    row.update({k: v.strip() for k, v in given.items() if v})
    meta = upload_metadata(row)
    external_id = upload_external_id(external_id)
    suffix = Path(file.filename or "upload").suffix[:10]
    with tempfile.TemporaryDirectory(prefix="sodav-catalog-") as tmp:
        path = Path(tmp) / f"audio{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        if path.stat().st_size > MAX_AUDIO_BYTES:
            raise PayloadTooLarge(f"audio larger than {MAX_AUDIO_BYTES} bytes")
        if path.stat().st_size == 0:
            raise InvalidRequest("the audio file is empty")
        outcome, rec = service.put_recording(session, external_id, path, meta, f"api:{file.filename or ''}")
    session.commit()
    return RecordingPutV1(outcome=outcome, recording=_out(rec))


@router.get("/recordings", response_model=RecordingPageV1, summary="Search recordings (analyst)")
def list_recordings(
    q: Annotated[str | None, Query(description="part of title, artist, ISRC or external id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    session: Session = Depends(get_session),
    _user: User = Depends(require_role("analyst")),
) -> RecordingPageV1:
    total, rows = repository.search(session, q, limit, offset)
    return RecordingPageV1(total=total, items=[_out(r) for r in rows])


@router.get("/recordings/{external_id}", response_model=RecordingV1, summary="One recording (analyst)")
def get_recording(
    external_id: str,
    session: Session = Depends(get_session),
    _user: User = Depends(require_role("analyst")),
) -> RecordingV1:
    rec = repository.recording(session, external_id)
    if rec is None:
        raise NotFound(f"no recording with external_id {external_id!r}")
    return _out(rec)
