"""One HTTP request to a recognition service, and what no answer means.

Both clients send through :func:`send`: a connection that cannot be made becomes
``RetryLater(sent=False)`` (nothing left the collector, nothing was spent); a timeout or a
connection dropped after the request went out becomes ``RetryLater(sent=True)``: the service
may have counted it, so it is counted here too and never silently repeated (the cost-aware
rule of AudD's own SDK, audd-python ``_retry.py``: no retry on a read timeout after upload).
The request's URL and parameters never reach a message: the key travels in the body.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

import shared
from collector.recognizers.outcomes import Outcome, RetryLater, Stop

__all__ = ["USER_AGENT", "body_or_outcome", "json_object", "retry_at", "send", "tomorrow"]

USER_AGENT = f"sodav-collector/{shared.__version__}"


def send(client: httpx.Client, service: str, request: httpx.Request) -> httpx.Response | RetryLater:
    """Send ``request``; the response, or the outcome of having none."""
    try:
        return client.send(request)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return RetryLater(
            f"{service} unreachable ({type(exc).__name__}): check the network and the URL", sent=False
        )
    except httpx.TimeoutException as exc:
        return RetryLater(f"{service} did not answer in time ({type(exc).__name__})")
    except httpx.TransportError as exc:
        # RemoteProtocolError ("server disconnected without sending a response"), ReadError...
        return RetryLater(f"{service} dropped the connection ({type(exc).__name__}: {exc})")


def retry_at(resp: httpx.Response, default_s: float) -> datetime:
    """When to try again: ``Retry-After`` (seconds or an HTTP date), else ``default_s`` from now."""
    now = datetime.now(UTC)
    value = resp.headers.get("retry-after", "").strip()
    if value:
        try:
            return now + timedelta(seconds=max(0.0, float(value)))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(now, when.astimezone(UTC))
    return now + timedelta(seconds=default_s)


def tomorrow() -> datetime:
    """The next UTC midnight: when a daily quota and the day's budget start again."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def json_object(resp: httpx.Response) -> dict[str, Any] | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def body_or_outcome(
    resp: httpx.Response, service: str, setting: str, example: str, wait_429_s: float
) -> dict[str, Any] | Outcome:
    """The service's JSON object, or the outcome of an answer that is not one: HTTP 429 (wait for
    ``Retry-After``, else ``wait_429_s``), a 5xx page (retry), another server at the URL (stop:
    ``setting`` is wrong, e.g. ``example`` is right)."""
    if resp.status_code == 429:
        return RetryLater(f"{service} answered 429: too many requests", retry_at(resp, wait_429_s))
    body = json_object(resp)
    if body is not None:
        return body
    if resp.status_code >= 500:
        return RetryLater(f"{service} answered {resp.status_code}", retry_at(resp, 60.0))
    kind = resp.headers.get("content-type", "no content type").split(";")[0]
    return Stop(
        f"{setting} does not answer as {service} (HTTP {resp.status_code}, {kind}): "
        f"check the URL (e.g. {example})"
    )
