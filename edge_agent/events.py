"""What happens to a station besides its audio: an outage, a silence, a title change.

One :class:`Event` travels from the capture that notices it, through the pipeline, into the
outbox, which sends it to the collector as an ``EventV1``. An event that lasts (an outage, a
silence) is written twice under one ``key``: open (``end`` is None) when it starts, closed
when it ends; the collector keeps the latest copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Event"]


@dataclass(frozen=True)
class Event:
    station: str
    kind: str  # shared.schemas.EventKind: "outage", "silence", "metadata"
    start: datetime
    end: datetime | None = None
    reason: str | None = None  # an outage's cause (shared.schemas.OutageReason)
    title: str | None = None  # a metadata event's ICY title
    detail: str | None = None
    key: str | None = None  # the same key for an event's open and closed copies
