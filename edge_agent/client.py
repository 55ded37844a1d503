"""The agent's HTTP client for the collector: bearer token, gzip, errors as the error tree.

Every request goes through :meth:`CollectorClient.request`, GET and POST alike: no answer
raises :class:`CollectorUnreachable` or :class:`CollectorTimeout`, an error status the class
:func:`edge_agent.errors.classify_status` picks (retry or park), an answer that is not the
collector's JSON :class:`NotACollector`; callers decide by class. ``enroll`` and ``check``,
which have no token yet or test it, read answers with the same helpers.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx

from edge_agent import tls
from edge_agent.config import AgentSettings
from edge_agent.errors import (
    CollectorTimeout,
    CollectorUnreachable,
    NotACollector,
    UploadError,
    classify_status,
)

__all__ = ["CollectorClient", "collector_json", "error_message", "not_a_collector"]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _json_object(resp: httpx.Response) -> dict[str, Any] | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def not_a_collector(resp: httpx.Response) -> str:
    """What to say of an answer that is not the collector's JSON (never the page itself)."""
    kind = resp.headers.get("content-type", "no content type").split(";")[0]
    base = f"{resp.url.scheme}://{resp.url.netloc.decode()}"
    return (
        f"{base} does not answer as a SODAV collector (HTTP {resp.status_code}, {kind}): check the "
        "URL, the collector's address, e.g. https://collector.sodav.sn (and any proxy on the way)"
    )


def collector_json(resp: httpx.Response) -> dict[str, Any]:
    """The JSON object the collector answered, or :class:`NotACollector`."""
    body = _json_object(resp)
    if body is None:
        raise NotACollector(not_a_collector(resp), resp.status_code)
    return body


def error_message(resp: httpx.Response) -> str:
    """The collector's ErrorV1 as ``NAME (code): message``: the stable code says what happened.
    An answer that is not the collector's says so, without the page it carried."""
    body = _json_object(resp)
    if body is None:
        return not_a_collector(resp)
    text = str(body.get("message") or body)
    if body.get("error") and body.get("code") is not None:
        text = f"{body['error']} ({body['code']}): {text}"
    return text[:300]


class CollectorClient:
    def __init__(
        self, settings: AgentSettings, token: str, transport: httpx.BaseTransport | None = None
    ) -> None:
        if not settings.collector.url:
            raise UploadError(
                "collector.url is not set: run `sodav-agent enroll URL CODE` or set it in the config"
            )
        self.agent = settings.name or "unnamed"
        self.timeout_s = settings.collector.timeout_s
        self._client = httpx.Client(
            base_url=settings.collector.url,
            timeout=settings.collector.timeout_s,
            verify=tls.verify(settings.collector.verify_tls),
            transport=transport,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "sodav-agent"},
        )

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send ``body`` (gzipped JSON) or nothing; return the JSON answer of a 2xx."""
        content, headers = None, None
        if body is not None:
            content = gzip.compress(json.dumps(body, separators=(",", ":")).encode(), compresslevel=6)
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        try:
            resp = self._client.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise CollectorTimeout(
                f"collector timed out: no answer within {self.timeout_s:g} s ({exc or type(exc).__name__}); "
                "check the network and collector.url"
            ) from exc
        except httpx.TransportError as exc:
            raise CollectorUnreachable(
                f"collector unreachable ({exc}); check the network and collector.url"
            ) from exc
        if resp.status_code >= 400:
            raise classify_status(resp.status_code, error_message(resp), _retry_after(resp))
        return collector_json(resp)

    def get_json(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, body)
