"""The agent's HTTP client for the collector: bearer token, gzip, errors as the error tree.

Every request goes through :meth:`CollectorClient.request`, GET and POST alike: no answer
raises :class:`CollectorUnreachable` or :class:`CollectorTimeout`, an error status the class
:func:`edge_agent.errors.classify_status` picks (retry or park), so callers decide by class.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx

from edge_agent import tls
from edge_agent.config import AgentSettings
from edge_agent.errors import CollectorTimeout, CollectorUnreachable, UploadError, classify_status

__all__ = ["CollectorClient"]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _message(resp: httpx.Response) -> str:
    """The collector's ErrorV1 as ``NAME (code): message``: the stable code says what happened."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
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
            raise classify_status(resp.status_code, _message(resp), _retry_after(resp))
        result: dict[str, Any] = resp.json()
        return result

    def get_json(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, body)
