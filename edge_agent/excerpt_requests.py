"""The collector's excerpt requests: cut the audio it asks for and upload it, or say it is gone.

The collector asks in its acknowledgements (``excerpts`` in the upload and heartbeat acks,
:class:`shared.schemas.ExcerptRequestV1`), for music that its catalog cannot name and that
a paid service may; it repeats a request until answered. This thread answers each one once,
with ``POST /api/v1/excerpts`` (:class:`shared.schemas.ExcerptV1`):

* the audio, cut by :meth:`Excerpts.extract` (the code behind ``sodav-agent excerpt``) as
  Ogg/Opus, base64 in the JSON body, with the span it really covers (a part of the request
  when only a part is kept);
* or a final *gone*: ``expired`` (older than ``buffer.excerpt_hours``), ``not_captured``
  (the station was down, or the kept files cannot be read), ``disabled`` (no excerpts kept);
  with what the agent keeps, so the collector stops asking instead of looping.

A request for audio that is still being written (the current minute's file is indexed when
the minute ends) waits a little instead. An upload that fails is tried again with backoff
(``RetryableUpload``); one the collector refuses (``RejectedUpload``: an unknown request,
another agent's station) is dropped with a warning.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
from pydantic import ValidationError

from edge_agent.buffer.excerpts import Excerpts
from edge_agent.client import CollectorClient
from edge_agent.errors import RejectedUpload, RetryableUpload
from shared.audio import AudioError
from shared.schemas import ExcerptGone, ExcerptRequestV1, ExcerptV1

__all__ = ["ExcerptResponder", "requests_in"]

log = logging.getLogger("edge_agent.excerpt_requests")
# a minute's file is indexed when the minute ends: a request this recent may not be kept *yet*
STILL_WRITING = timedelta(minutes=3)
REMEMBER = 1000  # answered ids kept, so a request repeated before the collector saw the answer is skipped
MAX_BACKOFF_S = 300.0


def requests_in(ack: dict[str, Any]) -> list[ExcerptRequestV1]:
    """The excerpt requests of an acknowledgement; a malformed one is logged and skipped."""
    out = []
    for item in ack.get("excerpts") or []:
        try:
            out.append(ExcerptRequestV1.model_validate(item))
        except ValidationError as exc:
            log.warning("excerpt request ignored, it does not follow the v1 schema: %s", exc.errors()[:1])
    return out


@dataclass
class _Pending:
    request: ExcerptRequestV1
    due: datetime
    attempts: int = 0


class ExcerptResponder:
    def __init__(
        self,
        client: CollectorClient,
        excerpts: Excerpts | None,
        keep_hours: float,
        workdir: Path,
    ) -> None:
        self.client = client
        self.excerpts = excerpts
        self.keep = timedelta(hours=keep_hours)
        self.workdir = workdir
        self._pending: dict[str, _Pending] = {}
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def submit(self, requests: Iterable[ExcerptRequestV1]) -> None:
        """Queue requests (from the heartbeat or uploader thread); repeats are ignored."""
        added = False
        with self._lock:
            for req in requests:
                if req.id in self._answered or req.id in self._pending:
                    continue
                self._pending[req.id] = _Pending(req, datetime.now(UTC))
                added = True
        if added:
            self._wake.set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def run_forever(self, stop: threading.Event, interval: float = 10.0) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                self.answer_due()
            except Exception:  # one bad request never stops the thread
                log.exception("agent=%s answering excerpt requests failed; trying again", self.client.agent)
            self._wake.wait(interval)

    def answer_due(self, now: datetime | None = None) -> int:
        """Answer every request that is due; return how many were answered."""
        now = now or datetime.now(UTC)
        with self._lock:
            due = [p for p in self._pending.values() if p.due <= now]
        answered = 0
        for pending in due:
            if self._answer(pending, now):
                answered += 1
                with self._lock:
                    self._pending.pop(pending.request.id, None)
                    self._answered[pending.request.id] = None
                    while len(self._answered) > REMEMBER:
                        self._answered.popitem(last=False)
        return answered

    def _answer(self, pending: _Pending, now: datetime) -> bool:
        """True once the collector has the answer (or refused it for good)."""
        req = pending.request
        try:
            body = self._body(req, now)
        except _NotYet:
            pending.due = now + timedelta(seconds=30)
            return False
        try:
            self.client.post_json("/api/v1/excerpts", body.model_dump(mode="json"))
        except RetryableUpload as exc:
            pending.attempts += 1
            wait = exc.retry_after or min(MAX_BACKOFF_S, 5.0 * 2**pending.attempts)
            pending.due = now + timedelta(seconds=wait)
            log.warning(
                "station=%s excerpt %s not delivered, again in %.0f s: %s", req.station, req.id, wait, exc
            )
            return False
        except RejectedUpload as exc:
            log.warning(
                "station=%s excerpt %s refused by the collector, dropped: %s", req.station, req.id, exc
            )
            return True
        if body.gone is not None:
            log.info("station=%s excerpt %s: gone (%s)", req.station, req.id, body.gone.value)
        else:
            assert body.start is not None and body.end is not None and body.audio is not None
            log.info(
                "station=%s excerpt %s uploaded: %.1f s, %d kB",
                req.station,
                req.id,
                (body.end - body.start).total_seconds(),
                len(body.audio) * 3 // 4 // 1024,
            )
        return True

    def _gone(self, req: ExcerptRequestV1, why: ExcerptGone) -> ExcerptV1:
        span = self.excerpts.kept_range(req.station) if self.excerpts is not None else None
        return ExcerptV1(
            agent=self.client.agent,
            request=req.id,
            station=req.station,
            gone=why,
            kept_from=span[0] if span else None,
            kept_to=span[1] if span else None,
        )

    def _body(self, req: ExcerptRequestV1, now: datetime) -> ExcerptV1:
        store = self.excerpts
        if store is None:
            return self._gone(req, ExcerptGone.DISABLED)
        span = store.kept_range(req.station)
        if now - req.end < STILL_WRITING and (span is None or span[1] < req.end):
            raise _NotYet
        kept = store.kept(req.station, req.start, req.end)
        if not kept:
            old = req.start < now - self.keep or (span is not None and req.end <= span[0])
            return self._gone(req, ExcerptGone.EXPIRED if old else ExcerptGone.NOT_CAPTURED)
        with tempfile.TemporaryDirectory(dir=self.workdir, prefix="excerpt-") as tmp:
            out = Path(tmp) / f"{req.id}.ogg"
            try:
                store.extract(req.station, req.start, req.end, out)
                audio = out.read_bytes()
            except (AudioError, av.FFmpegError, OSError) as exc:
                log.error("station=%s excerpt %s cannot be cut: %s", req.station, req.id, exc)
                return self._gone(req, ExcerptGone.NOT_CAPTURED)
        return ExcerptV1(
            agent=self.client.agent,
            request=req.id,
            station=req.station,
            start=max(req.start, kept[0][0]),
            end=min(req.end, kept[-1][1]),
            audio=base64.b64encode(audio).decode(),
        )


class _NotYet(Exception):
    """The audio asked for may still be being written: ask again in a moment."""
