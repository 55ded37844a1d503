"""The live event stream (server-sent events) and the tickets that open it.

``EventSource`` cannot send an ``Authorization`` header, and a long-lived token in a URL ends
up in access logs and history: the app trades its token for a one-use ticket that is worth
nothing after a minute (``POST /api/v1/events/tickets``), then opens
``GET /api/v1/events/stream?ticket=…``. See web/API-CONTRACT.md, "Live events".
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from collector.db.request import get_session
from collector.errors import error_responses
from collector.fleet.auth import InvalidToken, RevokedToken, require_role
from collector.fleet.models import User
from collector.fleet.service import new_ticket, spend_ticket, user_is_active
from collector.formats import iso_z
from collector.live.broker import Broker, sse
from collector.live.feed import Feed

log = logging.getLogger("collector.live")
router = APIRouter(prefix="/api/v1/events", tags=["live events"], responses=error_responses(401, 403, 422))

PING_S = 15.0
STREAM_FOR_S = 3600.0


class TicketOut(BaseModel):
    ticket: str
    expires_at: str


@router.post(
    "/tickets", response_model=TicketOut, status_code=201, summary="A one-use ticket to open the event stream"
)
def create_ticket(
    user: Annotated[User, Depends(require_role("analyst"))], session: Annotated[Session, Depends(get_session)]
) -> TicketOut:
    ticket, expires = new_ticket(session, user)
    session.commit()
    return TicketOut(ticket=ticket, expires_at=iso_z(expires))


def _spend(sessions: sessionmaker[Session], ticket: str) -> tuple[int, str]:
    with sessions() as session:
        result = spend_ticket(session, ticket)
        session.commit()
        if result is None:
            raise InvalidToken(
                "unknown, used or expired ticket: ask for a new one (POST /api/v1/events/tickets)"
            )
        if isinstance(result, str):
            raise RevokedToken("your tokens were revoked: ask an administrator for a new one")
        return result.id, result.name


def _still_active(sessions: sessionmaker[Session], user_id: int) -> bool:
    with sessions() as session:
        user = session.get(User, user_id)
        return user is not None and user_is_active(session, user)


@router.get(
    "/stream",
    summary="Server-sent events: station_status and play",
    description="Opened with a ticket, not a bearer token. First every station's state (or, with "
    "`last_event_id`, the events missed if still held), then changes as they happen; `: ping` every "
    "15 s; closed after an hour (reconnect with a new ticket).",
    response_class=StreamingResponse,
)
async def stream(
    request: Request,
    ticket: Annotated[str, Query(description="from POST /api/v1/events/tickets")],
    last_event_id: Annotated[int | None, Query(description="the id of the last event received")] = None,
) -> StreamingResponse:
    sessions: sessionmaker[Session] = request.app.state.sessionmaker
    broker: Broker = request.app.state.broker
    feed: Feed = request.app.state.feed
    user_id, name = await run_in_threadpool(_spend, sessions, ticket)
    subscription = broker.subscribe()  # before the snapshot: nothing falls between the two
    held = broker.since(last_event_id) if last_event_id is not None else None
    snapshot = await run_in_threadpool(feed.snapshot) if held is None else []
    log.info("event stream opened user=%s", name)

    async def events() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"
            for old in held or []:
                yield old.sse()
            for item in snapshot:
                yield sse(broker.last_id, "station_status", item)
            until = time.monotonic() + STREAM_FOR_S
            replayed = held[-1].id if held else None  # the relay may bring those again
            while time.monotonic() < until:
                event = await subscription.next(PING_S)
                if event is not None:
                    if replayed is None or event.id > replayed:
                        yield event.sse()
                    continue
                if not await run_in_threadpool(_still_active, sessions, user_id):
                    log.info("event stream closed: tokens revoked user=%s", name)
                    return
                yield ": ping\n\n"
        except ConnectionResetError:  # fell too far behind: the client reconnects
            return
        finally:
            subscription.close()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
