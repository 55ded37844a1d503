"""Sending one webhook delivery: a signed JSON POST, acknowledged by any 2xx answer."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx

import shared
from collector.notify import signing
from collector.notify.models import Delivery, Webhook

USER_AGENT = f"sodav-monitor-collector/{shared.__version__}"


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: acknowledged, or the status and error to log; ``final``: do not retry."""

    ok: bool
    status: int | None = None
    error: str | None = None
    final: bool = False


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def post(client: httpx.Client, hook: Webhook, delivery: Delivery) -> Outcome:
    """POST the delivery to the webhook. Redirects are not followed: a 3xx is not an answer."""
    body = body_of(delivery)
    headers = signing.headers(
        hook.secret, body, int(time.time()), delivery.event, delivery.event_id, delivery.id
    )
    headers["User-Agent"] = USER_AGENT
    try:
        response = client.post(hook.url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        return Outcome(False, None, f"no answer in time ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:300]}")
