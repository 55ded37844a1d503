"""The live events' one interface, :class:`Broker`, and its in-process implementation.

The feed (:mod:`collector.live.feed`) publishes; each open event stream subscribes, and a
stream that reconnects asks for the events after the last one it saw (:meth:`Broker.since`).
:class:`LocalBroker` serves the streams of one collector process: each process's feed reads
the database for them. With ``redis_url``, :class:`collector.live.redis_broker.RedisBroker`
shares one numbering, one replay and one feed among every process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger("collector.live")

HOLD_S = 300.0  # how long events are kept for a stream that reconnects
QUEUE_MAX = 2000  # a stream this far behind is dropped (its client reconnects and catches up)


@dataclass(frozen=True)
class LiveEvent:
    id: int
    name: str  # station_status or play
    data: str  # one JSON line
    at: float  # time.monotonic() when published

    def sse(self) -> str:
        return f"id: {self.id}\nevent: {self.name}\ndata: {self.data}\n\n"


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def sse(event_id: int, name: str, data: dict[str, Any]) -> str:
    """One server-sent event, as the stream writes it."""
    return LiveEvent(event_id, name, to_json(data), 0.0).sse()


class Subscription(Protocol):
    async def next(self, timeout: float) -> LiveEvent | None:
        """The next event, or None after ``timeout`` seconds without one."""
        ...

    def close(self) -> None: ...


class Broker(Protocol):
    def publish(self, name: str, data: dict[str, Any]) -> LiveEvent: ...

    def since(self, last_id: int) -> list[LiveEvent] | None:
        """The events after ``last_id`` if they are all still held, else None."""
        ...

    def subscribe(self) -> Subscription: ...

    def wants_poll(self) -> bool:
        """Whether this process's feed should read the database for changes now."""
        ...

    def resume_point(self) -> datetime | None:
        """Up to when another process's feed read the changes for these streams, if one did
        lately: a feed taking over carries on from there instead of starting afresh."""
        ...

    def fed_until(self, at: datetime) -> None:
        """This process's feed has read the changes up to ``at``."""
        ...

    @property
    def last_id(self) -> int: ...

    @property
    def subscribers(self) -> int: ...


class _Queue:
    def __init__(self, broker: LocalBroker, size: int) -> None:
        self._broker = broker
        self._queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(size)
        self.closed = False

    def put(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("live stream too far behind: dropped, its client reconnects")
            self.close()
            self._queue.get_nowait()
            self._queue.put_nowait(None)

    async def next(self, timeout: float) -> LiveEvent | None:
        try:
            event = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if event is None:
            raise ConnectionResetError("the stream fell too far behind")
        return event

    def close(self) -> None:
        self.closed = True
        self._broker._queues.discard(self)


class LocalBroker:
    """Events of this process, kept ``HOLD_S`` for replay; call it from the event loop.

    Ids grow from the start time in milliseconds, so an id from another process or an earlier
    run is (almost surely) outside the held range and gets a fresh snapshot instead."""

    def __init__(self, hold_s: float = HOLD_S, queue_max: int = QUEUE_MAX) -> None:
        self._hold = hold_s
        self._queue_max = queue_max
        self._ids = itertools.count(int(time.time() * 1000))
        self._last = next(self._ids)
        self._events: deque[LiveEvent] = deque()
        self._queues: set[_Queue] = set()

    def publish(self, name: str, data: dict[str, Any]) -> LiveEvent:
        event = LiveEvent(next(self._ids), name, to_json(data), time.monotonic())
        self.deliver(event)
        return event

    def deliver(self, event: LiveEvent) -> None:
        """Hold an event (numbered elsewhere, e.g. by Redis) and hand it to this process's streams."""
        if event.id > self._last + 1:  # ids never go down here, whoever numbers them
            self._ids = itertools.count(event.id + 1)
        self._last = event.id
        self._events.append(event)
        while self._events and event.at - self._events[0].at > self._hold:
            self._events.popleft()
        for queue in list(self._queues):
            queue.put(event)

    def since(self, last_id: int) -> list[LiveEvent] | None:
        if last_id == self._last:
            return []
        if not self._events or not (self._events[0].id - 1 <= last_id < self._last):
            return None
        return [e for e in self._events if e.id > last_id]

    def subscribe(self) -> _Queue:
        queue = _Queue(self, self._queue_max)
        self._queues.add(queue)
        return queue

    def wants_poll(self) -> bool:
        return bool(self._queues)

    def resume_point(self) -> datetime | None:
        return None  # one process, one feed: nobody else fed its streams

    def fed_until(self, at: datetime) -> None:
        pass

    @property
    def last_id(self) -> int:
        return self._last

    @property
    def subscribers(self) -> int:
        return len(self._queues)
