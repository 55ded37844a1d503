"""Notifications API: webhooks and the delivery log (admin), report subscriptions (analysts).

An analyst subscribes an address to a scheduled report file and sees or removes their own
subscriptions; an admin sees and removes everyone's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from collector.db.request import MAX_BIG_ID, MAX_ROW_ID, RowId, get_session
from collector.errors import error_responses
from collector.fleet.auth import require_role
from collector.fleet.models import User
from collector.formats import iso_z
from collector.notify import repository, service
from collector.notify.models import Delivery, ReportSubscription, Webhook

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=error_responses(401, 403, 404, 422))
Admin = Annotated[User, Depends(require_role("admin"))]
Analyst = Annotated[User, Depends(require_role("analyst"))]
DB = Annotated[Session, Depends(get_session)]


def _time(t: datetime | None) -> str | None:
    return iso_z(t, "seconds") if t else None


class WebhookIn(BaseModel):
    url: str = Field(examples=["https://erp.sodav.sn/hooks/sodav"])
    events: list[Literal["play.final", "station.state"]] = Field(min_length=1)
    stations: list[str] = Field(default_factory=list, description="station slugs; empty: every station")
    description: str | None = Field(default=None, max_length=200)


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    stations: list[str]
    description: str | None
    active: bool
    created_at: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="signs every delivery (X-Sodav-Signature); shown only now")


def _webhook(h: Webhook) -> dict[str, Any]:
    return {
        "id": h.id,
        "url": h.url,
        "events": h.events.split(","),
        "stations": h.stations.split(",") if h.stations else [],
        "description": h.description,
        "active": h.active,
        "created_at": _time(h.created_at),
    }


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Add a webhook (admin)")
def add_webhook(body: WebhookIn, _admin: Admin, session: DB) -> WebhookCreated:
    hook, secret = service.create_webhook(session, body.url, body.events, body.stations, body.description)
    session.commit()
    return WebhookCreated(**_webhook(hook), secret=secret)


@router.get("/webhooks", response_model=list[WebhookOut], summary="List webhooks (admin)")
def list_webhooks(_admin: Admin, session: DB) -> list[WebhookOut]:
    return [WebhookOut(**_webhook(h)) for h in repository.webhooks(session)]


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook and its log (admin)")
def delete_webhook(webhook_id: RowId, _admin: Admin, session: DB) -> Response:
    service.remove_webhook(session, webhook_id)
    session.commit()
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/ping", status_code=202, summary="Send a test event (admin)")
def ping_webhook(webhook_id: RowId, _admin: Admin, session: DB) -> dict[str, int]:
    delivery = service.ping(session, webhook_id)
    session.commit()
    return {"delivery": delivery.id}


class DeliveryOut(BaseModel):
    id: int
    channel: str
    event: str
    event_id: str
    webhook: int | None
    subscription: int | None
    status: str
    attempts: int
    created_at: str | None
    last_attempt_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    last_status: int | None
    last_error: str | None


def delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "channel": d.channel,
        "event": d.event,
        "event_id": d.event_id,
        "webhook": d.webhook_id,
        "subscription": d.subscription_id,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": _time(d.created_at),
        "last_attempt_at": _time(d.last_attempt_at),
        "next_attempt_at": _time(d.next_attempt_at) if d.status == "pending" else None,
        "delivered_at": _time(d.delivered_at),
        "last_status": d.last_status,
        "last_error": d.last_error,
    }


@router.get("/deliveries", response_model=list[DeliveryOut], summary="The delivery log, newest first (admin)")
def list_deliveries(
    _admin: Admin,
    session: DB,
    status: Literal["pending", "delivered", "failed"] | None = None,
    channel: Literal["webhook", "email"] | None = None,
    webhook: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[DeliveryOut]:
    rows = repository.deliveries(session, status=status, channel=channel, webhook_id=webhook, limit=limit)
    return [DeliveryOut(**delivery_view(d)) for d in rows]


class ReplayIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_BIG_ID)]] = Field(default_factory=list)
    status: Literal["pending", "delivered", "failed"] | None = None
    webhook: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    since: datetime | None = None


@router.post("/deliveries/replay", summary="Send deliveries again (admin)")
def replay_deliveries(body: ReplayIn, _admin: Admin, session: DB) -> dict[str, int]:
    n = service.replay(session, body.ids, status=body.status, webhook_id=body.webhook, since=body.since)
    session.commit()
    return {"queued": n}


class SubscriptionIn(BaseModel):
    email: str = Field(max_length=320, examples=["analyste@sodav.sn"])
    report: Literal["airtime", "activity", "playlist"]
    station: str | None = Field(default=None, description="a playlist's station; none for global reports")
    format: Literal["xlsx", "pdf"] = "xlsx"
    lang: Literal["fr", "en"] = "fr"


class SubscriptionOut(BaseModel):
    id: int
    email: str
    report: str
    station: str | None
    format: str
    lang: str
    created_at: str | None


def _subscription(s: ReportSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id,
        email=s.email,
        report=s.report,
        station=None if s.scope == "all" else s.scope,
        format=s.fmt,
        lang=s.lang,
        created_at=_time(s.created_at),
    )


@router.post(
    "/reports/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    summary="Receive a scheduled report file by e-mail when it is generated",
)
def subscribe(body: SubscriptionIn, user: Analyst, session: DB) -> SubscriptionOut:
    sub = service.subscribe_report(
        session, body.email, body.report, body.station or "all", body.format, body.lang, user
    )
    session.commit()
    return _subscription(sub)


@router.get("/reports/subscriptions", response_model=list[SubscriptionOut], summary="Report subscriptions")
def list_subscriptions(user: Analyst, session: DB) -> list[SubscriptionOut]:
    mine = None if user.role == "admin" else user.id
    return [_subscription(s) for s in repository.report_subscriptions(session, mine)]


@router.delete("/reports/subscriptions/{subscription_id}", status_code=204, summary="Unsubscribe")
def delete_subscription(subscription_id: RowId, user: Analyst, session: DB) -> Response:
    service.unsubscribe(session, subscription_id, user)
    session.commit()
    return Response(status_code=204)
