"""Upload the outbox to the collector: batches bounded by count, bytes and age; gzip.

Policy by error class (see :mod:`edge_agent.errors`): network errors, timeouts, 5xx and
429 are retried with capped, jittered exponential backoff that honours ``Retry-After``;
other 4xx park the batch with the collector's message as the visible reason. Rows leave
the outbox only after a 2xx. The uploader runs in its own thread and never blocks capture.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from edge_agent import tls
from edge_agent.buffer.outbox import Outbox, OutboxBatch
from edge_agent.config import AgentSettings
from edge_agent.errors import (
    BufferFull,
    CollectorTimeout,
    CollectorUnreachable,
    RejectedUpload,
    RetryableUpload,
    UploadError,
    classify_status,
)
from shared.schemas import AgentDirectiveV1

log = logging.getLogger("edge_agent.uploader")


@dataclass(frozen=True)
class UploadResult:
    batch_id: str
    segments: int
    events: int
    accepted: int
    duplicates: int


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
    """The agent's HTTP client: bearer token, gzip, errors mapped to the error tree."""

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

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = gzip.compress(json.dumps(body, separators=(",", ":")).encode(), compresslevel=6)
        try:
            resp = self._client.post(
                path, content=raw, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
            )
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
        try:
            resp = self._client.get(path)
        except httpx.TransportError as exc:
            raise CollectorUnreachable(
                f"collector unreachable ({exc}); check the network and collector.url"
            ) from exc
        if resp.status_code >= 400:
            raise classify_status(resp.status_code, _message(resp), _retry_after(resp))
        result: dict[str, Any] = resp.json()
        return result


class Uploader:
    def __init__(
        self,
        settings: AgentSettings,
        outbox: Outbox,
        client: CollectorClient,
        on_directives: Callable[[list[AgentDirectiveV1]], None],
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.client = client
        self.on_directives = on_directives
        self._attempt = 0
        self.last_error: str | None = None
        self.error_since = ""

    def upload_once(self, force: bool = False) -> UploadResult | None:
        """Send one batch if it is due (full by count/bytes, or old enough); None if nothing to send."""
        cfg = self.settings.collector
        batch = self.outbox.next_batch(cfg.batch_max_segments, cfg.batch_max_bytes)
        if not batch:
            return None
        due = (
            force
            or len(batch.segment_ids) >= cfg.batch_max_segments
            or batch.approx_bytes >= cfg.batch_max_bytes * 0.9
            or (
                batch.oldest is not None
                and (datetime.now(UTC) - batch.oldest).total_seconds() >= cfg.batch_max_age_s
            )
        )
        if not due:
            return None
        return self._send(batch)

    def _send(self, batch: OutboxBatch) -> UploadResult:
        batch_id = uuid.uuid4().hex
        try:
            ack = self.client.post_json("/api/v1/uploads", batch.body(self.client.agent, batch_id))
        except RejectedUpload as exc:
            self.outbox.park(batch, str(exc))
            log.error(
                "agent=%s batch=%s parked (%d segments): %s",
                self.client.agent,
                batch_id,
                len(batch.segment_ids),
                exc,
            )
            raise
        try:
            self.outbox.ack(batch)
        except BufferFull as exc:
            log.error(
                "agent=%s batch=%s delivered, but the outbox cannot record it (%s): it will be sent "
                "again and the collector ignores the repeat",
                self.client.agent,
                batch_id,
                exc,
            )
            raise RetryableUpload(f"acknowledgement not recorded: {exc}") from exc
        self._clear_error()
        directives = [AgentDirectiveV1.model_validate(d) for d in ack.get("directives", []) or []]
        if directives:
            self.on_directives(directives)
        log.info(
            "agent=%s batch=%s uploaded segments=%d events=%d accepted=%s",
            self.client.agent,
            batch_id,
            len(batch.segment_ids),
            len(batch.event_ids),
            ack.get("accepted_segments"),
        )
        return UploadResult(
            batch_id,
            len(batch.segment_ids),
            len(batch.event_ids),
            int(ack.get("accepted_segments", 0)),
            int(ack.get("duplicate_segments", 0)),
        )

    def _record_error(self, exc: UploadError) -> None:
        """Keep the failure in the outbox too, where ``sodav-agent status`` shows it."""
        now = datetime.now(UTC).isoformat()
        since = now if self.last_error is None else self.error_since
        self.last_error, self.error_since = str(exc), since
        state = {
            "since": since,
            "last": now,
            # no HTTP answer at all (refused, reset, timed out): the link or the collector is down
            "kind": "unreachable"
            if isinstance(exc, CollectorUnreachable | CollectorTimeout)
            else type(exc).__name__,
            "message": str(exc)[:500],
        }
        try:
            self.outbox.set_state("upload_error", state)
        except BufferFull:
            pass  # the log has it; the disk-full error is reported where it happens

    def _clear_error(self) -> None:
        if self.last_error is not None or self.outbox.get_state("upload_error") is not None:
            log.info("agent=%s uploads work again", self.client.agent)
            self.outbox.set_state("upload_error", None)
        self.last_error = None

    def backoff(self, error: UploadError) -> float:
        cap = self.settings.collector.retry_max_backoff_s
        base = min(cap, 1.0 * 2 ** min(self._attempt, 20))
        self._attempt += 1
        delay = base / 2 + random.uniform(0, base / 2)
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, cap))
        return float(delay)

    def run_forever(self, stop: threading.Event, idle_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                result = self.upload_once()
                self._attempt = 0
                if result is None:
                    stop.wait(idle_s)
            except RetryableUpload as exc:
                self._record_error(exc)
                delay = self.backoff(exc)
                log.warning("agent=%s upload failed, retrying in %.1f s: %s", self.client.agent, delay, exc)
                stop.wait(delay)
            except RejectedUpload as exc:
                self._record_error(exc)
                stop.wait(idle_s)
            except Exception:
                log.exception("agent=%s unexpected upload error", self.client.agent)
                stop.wait(5.0)
