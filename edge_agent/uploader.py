"""Upload the outbox to the collector: batches bounded by count, bytes and age; gzip.

Policy by error class (see :mod:`edge_agent.errors`): network errors, timeouts, 5xx and
429 are retried with capped, jittered exponential backoff that honours ``Retry-After``;
other 4xx park the batch with the collector's message as the visible reason. Rows leave
the outbox only after a 2xx. The uploader runs in its own thread and never blocks capture.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tenacity import RetryCallState

from edge_agent import retry
from edge_agent.buffer.outbox import Outbox, OutboxBatch
from edge_agent.client import CollectorClient
from edge_agent.config import AgentSettings
from edge_agent.errors import (
    BufferFull,
    CollectorTimeout,
    CollectorUnreachable,
    RejectedUpload,
    RetryableUpload,
    UploadError,
)
from edge_agent.excerpt_requests import requests_in
from shared.schemas import AgentDirectiveV1, ExcerptRequestV1

log = logging.getLogger("edge_agent.uploader")


@dataclass(frozen=True)
class UploadResult:
    batch_id: str
    segments: int
    events: int
    accepted: int
    duplicates: int


class Uploader:
    def __init__(
        self,
        settings: AgentSettings,
        outbox: Outbox,
        client: CollectorClient,
        on_directives: Callable[[list[AgentDirectiveV1]], None],
        on_excerpts: Callable[[list[ExcerptRequestV1]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.client = client
        self.on_directives = on_directives
        self.on_excerpts = on_excerpts
        self.last_error: str | None = None  # of the last attempt, None once one succeeds
        self.attempts = 0
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
        self.attempts += 1
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
        if self.on_excerpts is not None:
            self.on_excerpts(requests_in(ack))
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

    def run_forever(self, stop: threading.Event, idle_s: float = 1.0) -> None:
        cap = self.settings.collector.retry_max_backoff_s
        policy = retry.policy(
            stop,
            RetryableUpload,
            retry.RetryAfter(retry.backoff(1.0, cap), cap),
            before_sleep=self._before_retry,
        )
        while not stop.is_set():
            try:
                if policy(self.upload_once) is None:
                    stop.wait(idle_s)
            except RetryableUpload:
                return  # stopped while retrying: the rows wait in the outbox for the next start
            except RejectedUpload as exc:
                self._record_error(exc)
                stop.wait(idle_s)
            except Exception:
                log.exception("agent=%s unexpected upload error", self.client.agent)
                stop.wait(5.0)

    def _before_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(exc, RetryableUpload)
        self._record_error(exc)
        log.warning(
            "agent=%s upload failed, retrying in %.1f s: %s", self.client.agent, state.upcoming_sleep, exc
        )
