"""Tell the collector, every minute, how each source and the outbox are doing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import shared
from edge_agent.buffer.outbox import Outbox
from edge_agent.client import CollectorClient
from edge_agent.errors import BufferFull, UploadError
from edge_agent.excerpt_requests import requests_in
from shared.schemas import AgentDirectiveV1, ExcerptRequestV1, HeartbeatV1, SourceStatusV1

log = logging.getLogger("edge_agent.heartbeat")
# play times come from this box's clock: past this offset from the collector's, say so loudly
CLOCK_WARN_MS = 2000.0


def build(
    agent: str,
    outbox: Outbox,
    sources: list[SourceStatusV1],
    memory_drops: int = 0,
    clock_offset_ms: float | None = None,
) -> HeartbeatV1:
    """``memory_drops``: segments dropped from memory during a full disk, not yet counted on disk;
    ``clock_offset_ms``: the collector's clock minus this box's, from the last heartbeat."""
    st = outbox.stats()
    return HeartbeatV1(
        agent=agent,
        sent_at=datetime.now(UTC),
        agent_version=shared.__version__,
        queue_depth=st.queue_depth,
        oldest_queued=st.oldest_queued,
        last_upload=st.last_upload,
        dropped_excerpts=st.dropped_excerpts,
        dropped_fingerprints=st.dropped_fingerprints + memory_drops,
        clock_offset_ms=clock_offset_ms,
        sources=sources,
    )


def run_forever(
    client: CollectorClient,
    outbox: Outbox,
    sources: Callable[[], list[SourceStatusV1]],
    on_directives: Callable[[list[AgentDirectiveV1]], None],
    interval: float,
    stop: threading.Event,
    memory_drops: Callable[[], int] = lambda: 0,
    on_excerpts: Callable[[list[ExcerptRequestV1]], None] | None = None,
) -> None:
    offset_ms: float | None = None
    while not stop.is_set():
        body = build(client.agent, outbox, sources(), memory_drops(), offset_ms).model_dump(mode="json")
        try:  # kept for `sodav-agent status`; a full disk must not stop the heartbeat
            outbox.set_state("last_heartbeat", body)
        except BufferFull as exc:
            log.warning("agent=%s heartbeat not saved locally: %s", client.agent, exc)
        try:
            sent, t0 = datetime.now(UTC), time.monotonic()
            ack = client.post_json("/api/v1/heartbeats", body)
            offset_ms = clock_offset(sent, time.monotonic() - t0, ack.get("received_at"))
            if offset_ms is not None:
                _report_clock(outbox, client.agent, offset_ms)
            dirs = [AgentDirectiveV1.model_validate(d) for d in ack.get("directives", []) or []]
            if dirs:
                on_directives(dirs)
            if on_excerpts is not None:
                on_excerpts(requests_in(ack))
        except UploadError as exc:
            log.warning("agent=%s heartbeat not delivered: %s", client.agent, exc)
        stop.wait(interval)


def clock_offset(sent: datetime, round_trip_s: float, received_at: object) -> float | None:
    """The collector's clock minus ours, in ms: its ``received_at`` against the middle of the
    request (as NTP does; good to half the round trip, which a phone link keeps under a second)."""
    if not isinstance(received_at, str):
        return None
    try:
        theirs = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if theirs.tzinfo is None:
        return None
    ours = sent + timedelta(seconds=round_trip_s / 2)
    return (theirs - ours).total_seconds() * 1000.0


def _report_clock(outbox: Outbox, agent: str, offset_ms: float) -> None:
    if abs(offset_ms) > CLOCK_WARN_MS:
        log.warning(
            "agent=%s this box's clock is %+.1f s off the collector's: play times come from it; "
            "check time sync (`chronyc tracking`, `timedatectl`)",
            agent,
            -offset_ms / 1000.0,
        )
    try:  # for `sodav-agent status`
        at = datetime.now(UTC).isoformat(timespec="seconds")
        outbox.set_state("clock_offset", {"ms": round(offset_ms, 1), "at": at})
    except BufferFull:
        pass
