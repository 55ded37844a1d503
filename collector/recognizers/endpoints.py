"""The labelling queue's API (role ``analyst`` or ``admin``): unknown-music clusters by airtime,
their excerpt as audio, and the analysts' decisions (:mod:`collector.recognizers.queue`)."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from collector.db.request import MAX_ROW_ID, RowId, get_session
from collector.errors import error_responses
from collector.fleet.auth import require_role
from collector.fleet.models import User
from collector.recognizers import queue
from collector.recognizers.lookups import ask_again

log = logging.getLogger("collector.recognizers")
router = APIRouter(prefix="/api/v1", tags=["unknowns"], responses=error_responses(401, 403, 404, 422))
Analyst = Annotated[User, Depends(require_role("analyst"))]
DB = Annotated[Session, Depends(get_session)]


class EditIn(BaseModel):
    title: str | None = Field(default=None, max_length=500)
    artist: str | None = Field(default=None, max_length=500)
    album: str | None = Field(default=None, max_length=500)
    label: str | None = Field(default=None, max_length=300)
    isrc: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[0-9]{2}-?[0-9]{5}$")
    release_date: str | None = Field(default=None, max_length=32)
    song_link: str | None = Field(default=None, max_length=2000)


class RejectIn(BaseModel):
    reason: Literal["not_music", "not_in_scope"]


class MergeIn(BaseModel):
    into: int = Field(ge=1, le=MAX_ROW_ID, description="the cluster that stays")


@router.get("/unknowns", summary="Unknown-music clusters, by airtime")
def list_unknowns(
    _user: Analyst,
    session: DB,
    state: Literal["open", "decided", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    total, rows = queue.listing(session, state, limit, offset)
    return {"total": total, "items": [u.json() for u in rows]}


@router.get("/unknowns/{cluster_id}", summary="One unknown-music cluster")
def get_unknown(cluster_id: RowId, _user: Analyst, session: DB) -> dict[str, Any]:
    return queue.unknown(session, cluster_id).json()


@router.get(
    "/unknowns/{cluster_id}/excerpt",
    summary="The cluster's excerpt, as the agent cut it (Ogg/Opus)",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}}}},
)
def get_excerpt(cluster_id: RowId, _user: Analyst, session: DB) -> Response:
    audio = queue.excerpt_audio(session, cluster_id)
    return Response(
        audio,
        media_type="audio/ogg",
        headers={"Content-Disposition": f'inline; filename="unknown-{cluster_id}.ogg"'},
    )


@router.patch("/unknowns/{cluster_id}", summary="Set the metadata to accept")
def edit_unknown(cluster_id: RowId, body: EditIn, user: Analyst, session: DB) -> dict[str, Any]:
    c = queue.cluster(session, cluster_id)
    queue.edit(session, c, body.model_dump(exclude_unset=True), user.name)
    session.commit()
    return queue.unknown(session, cluster_id).json()


@router.post("/unknowns/{cluster_id}/accept", summary="Accept: the cluster becomes a catalog recording")
def accept_unknown(cluster_id: RowId, user: Analyst, session: DB) -> dict[str, Any]:
    rec = queue.accept(session, queue.cluster(session, cluster_id), user.name)
    session.commit()
    log.info("unknown cluster=%d accepted as recording=%d by=%s", cluster_id, rec.id, user.name)
    return queue.unknown(session, cluster_id).json()


@router.post("/unknowns/{cluster_id}/reject", summary="Reject: not music, or not in scope")
def reject_unknown(cluster_id: RowId, body: RejectIn, user: Analyst, session: DB) -> dict[str, Any]:
    queue.reject(session, queue.cluster(session, cluster_id), body.reason, user.name)
    session.commit()
    log.info("unknown cluster=%d rejected (%s) by=%s", cluster_id, body.reason, user.name)
    return queue.unknown(session, cluster_id).json()


@router.post("/unknowns/{cluster_id}/merge", summary="Merge into another cluster of the same song")
def merge_unknown(cluster_id: RowId, body: MergeIn, user: Analyst, session: DB) -> dict[str, Any]:
    c, into = queue.cluster(session, cluster_id), queue.cluster(session, body.into)
    queue.merge(session, c, into, user.name)
    session.commit()
    return queue.unknown(session, body.into).json()


@router.post("/unknowns/{cluster_id}/lookup", summary="Look the cluster up again (AcoustID, then AudD)")
def lookup_again(cluster_id: RowId, user: Analyst, session: DB) -> dict[str, Any]:
    c = queue.cluster(session, cluster_id)
    ask_again(session, c)
    queue.record_ask(session, c, user.name)
    session.commit()
    return queue.unknown(session, cluster_id).json()
