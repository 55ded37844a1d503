"""``POST /api/v1/excerpts``: an agent's answer to an excerpt request (the audio, or gone)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from collector.db.request import get_session
from collector.fleet.auth import require_agent
from collector.fleet.models import Agent

# the uploads' own body reader (limits, gzip); private there until that module may change
from collector.ingest.endpoints import _read_body as read_body
from collector.ingest.excerpts import answer
from collector.ingest.service import parse
from shared.schemas import ExcerptAckV1, ExcerptV1

log = logging.getLogger("collector.ingest")
router = APIRouter(prefix="/api/v1", tags=["ingest"])


@router.post("/excerpts", response_model=ExcerptAckV1, summary="An agent's answer to an excerpt request")
async def excerpt(
    request: Request, agent: Agent = Depends(require_agent), session: Session = Depends(get_session)
) -> ExcerptAckV1:
    raw = await read_body(request)
    return await run_in_threadpool(_store, raw, agent, session)


def _store(raw: bytes, agent: Agent, session: Session) -> ExcerptAckV1:
    body = parse(ExcerptV1, raw)
    stored = answer(session, agent, body)
    session.commit()
    what = f"gone ({body.gone.value})" if body.gone is not None else "audio"
    log.info(
        "excerpt agent=%s station=%s request=%s %s stored=%s",
        agent.name,
        body.station,
        body.request,
        what,
        stored,
    )
    return ExcerptAckV1(request=body.request, stored=stored)
