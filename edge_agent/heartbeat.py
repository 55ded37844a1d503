"""Tell the collector, every minute, how each source and the outbox are doing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import shared
from edge_agent.buffer.outbox import Outbox
from edge_agent.errors import BufferFull, UploadError
from edge_agent.uploader import CollectorClient
from shared.schemas import AgentDirectiveV1, HeartbeatV1, SourceStatusV1

log = logging.getLogger("edge_agent.heartbeat")


def build(agent: str, outbox: Outbox, sources: list[SourceStatusV1], memory_drops: int = 0) -> HeartbeatV1:
    """``memory_drops``: segments dropped from memory during a full disk, not yet counted on disk."""
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
) -> None:
    while not stop.is_set():
        hb = build(client.agent, outbox, sources(), memory_drops())
        try:  # kept for `sodav-agent status`; a full disk must not stop the heartbeat
            outbox.set_state("last_heartbeat", hb.model_dump(mode="json"))
        except BufferFull as exc:
            log.warning("agent=%s heartbeat not saved locally: %s", client.agent, exc)
        try:
            ack = client.post_json("/api/v1/heartbeats", hb.model_dump(mode="json"))
            dirs = [AgentDirectiveV1.model_validate(d) for d in ack.get("directives", []) or []]
            if dirs:
                on_directives(dirs)
        except UploadError as exc:
            log.warning("agent=%s heartbeat not delivered: %s", client.agent, exc)
        stop.wait(interval)
