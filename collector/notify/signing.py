"""How a webhook request is signed: HMAC-SHA256 over ``timestamp.body`` with the webhook's secret.

Headers of every delivery::

    X-Sodav-Event: play.final
    X-Sodav-Event-Id: 5b0e…           the same on every attempt and replay: deduplicate on it
    X-Sodav-Delivery: 1234            this receiver's delivery (the delivery log's id)
    X-Sodav-Timestamp: 1764140612     Unix seconds when this attempt was sent
    X-Sodav-Signature: sha256=<hex>   HMAC-SHA256(secret, f"{timestamp}.".encode() + body)

A receiver recomputes the signature over the raw body, compares in constant time and refuses
a timestamp more than five minutes away from its clock (docs/ops/notifications.md has the
check in Python).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE = "X-Sodav-Signature"
TIMESTAMP = "X-Sodav-Timestamp"
EVENT = "X-Sodav-Event"
EVENT_ID = "X-Sodav-Event-Id"
DELIVERY = "X-Sodav-Delivery"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(
    secret: str, body: bytes, timestamp: int, event: str, event_id: str, delivery_id: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT: event,
        EVENT_ID: event_id,
        DELIVERY: str(delivery_id),
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, body),
    }
