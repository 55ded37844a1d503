"""Live events shared by every collector process through Redis (``redis_url``).

One feed for all: the processes take turns holding a short lease (``LEADER``, renewed at each
poll); the holder reads the database while any process has a stream open (each says so in
``WANTED``), notes up to when it read (``FED``: a process that takes the lease over carries on
from there, so the plays written between the two feeds' reads are not skipped), and appends
what changed to one capped Redis stream (``STREAM``), numbered by one counter (``IDS``).
Every process relays that stream to its own open streams
(:class:`~collector.live.broker.LocalBroker` underneath), so the same event has the same id
everywhere, and a browser that reconnects to another process (behind a proxy) gets the events
it missed from the stream instead of a fresh snapshot.

Redis away: each process goes back to what it does without Redis, its own feed for its own
streams (:mod:`collector.kv` logs it and counts it); the relay comes back by itself. A stream
then gets a fresh snapshot where a replay is missing: nothing a browser needs is lost. Keys
evicted or lost by Redis (``maxmemory``, a restart without persistence) cost the same: a
replay becomes a snapshot, the holder takes its lease again and goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from datetime import datetime
from typing import Any

from collector.kv import RETRY_S, SharedRedis
from collector.live.broker import HOLD_S, LiveEvent, LocalBroker, Subscription, to_json

log = logging.getLogger("collector.live")

STREAM = "sodav:live:events"
IDS = "sodav:live:ids"
LEADER = "sodav:live:feed"
WANTED = "sodav:live:wanted"
FED = "sodav:live:fed"  # up to when the feed's holder read the changes (ISO time)
STREAM_MAX = 5000  # entries kept for replays (a few minutes of a large fleet's changes)
LEASE_MS = 10_000
BLOCK_MS = 1000
USE = "live events"
# one step, so that entries are in id order whichever process publishes: the stream entry's
# id is the event's ("<id>-0"); ids are never below the time in ms, so they stay past those of
# an earlier run and of the processes' own numbering while Redis was away
APPEND = """
local id = redis.call('INCR', KEYS[1])
if id < tonumber(ARGV[3]) then
  id = tonumber(ARGV[3])
  redis.call('SET', KEYS[1], id)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], id .. '-0', 'name', ARGV[1], 'data', ARGV[2])
return id
"""
_AWAY: Any = object()


class RedisBroker:
    def __init__(self, redis: SharedRedis, local: LocalBroker | None = None) -> None:
        import redis as redis_py

        self.redis = redis
        self.local = local or LocalBroker()
        self.token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # blocking reads need a longer socket timeout than the shared client's (Any: redis-py
        # types its replies loosely)
        self._reader: Any = redis_py.Redis.from_url(redis.url, socket_timeout=BLOCK_MS / 1000 + 2)
        self._cursor: str | None = None  # the last stream entry relayed
        self._leading = False  # whether this process fed every stream at its last poll
        self._append = redis.client.register_script(APPEND)

    # ---- the Broker interface ----

    def publish(self, name: str, data: dict[str, Any]) -> LiveEvent:
        text = to_json(data)
        args: list[str | int] = [name, text, int(time.time() * 1000), STREAM_MAX]
        event_id = self.redis.run(USE, lambda r: self._append(keys=[IDS, STREAM], args=args), None)
        if event_id is None:  # Redis away: this process's streams only
            return self.local.publish(name, data)
        return LiveEvent(int(event_id), name, text, time.monotonic())  # the relay delivers it

    def since(self, last_id: int) -> list[LiveEvent] | None:
        def read(r: Any) -> list[LiveEvent] | None:
            first, last = r.xrange(STREAM, count=1), r.xrevrange(STREAM, count=1)
            if not first or not (_id(first[0][0]) - 1 <= last_id <= _id(last[0][0])):
                return None  # not held (any more, or from another Redis): a fresh snapshot
            return [_event(entry, fields) for entry, fields in r.xrange(STREAM, min=f"{last_id + 1}-0")]

        held = self.redis.run(USE, read, _AWAY)
        return self.local.since(last_id) if held is _AWAY else held

    def subscribe(self) -> Subscription:
        return self.local.subscribe()

    def wants_poll(self) -> bool:
        if self.local.subscribers:
            self.redis.run(USE, lambda r: r.set(WANTED, self.token, px=LEASE_MS), None)

        def lead(r: Any) -> bool:
            if r.set(LEADER, self.token, nx=True, px=LEASE_MS):
                if not self._leading:
                    # just taken (at start, from a process gone, or after Redis was away): the
                    # feed starts afresh, sending every station's state to every process again
                    return False
                # taken again by its holder (Redis evicted or lost the key): it goes on
            elif r.get(LEADER) != self.token.encode():
                return False
            else:
                r.pexpire(LEADER, LEASE_MS)
            return bool(r.exists(WANTED))

        leading = self.redis.run(USE, lead, None)
        self._leading = bool(leading)
        if leading is None:  # Redis away: feed this process's own streams
            return self.local.wants_poll()
        return leading

    def resume_point(self) -> datetime | None:
        # kept as long as a stream's replay (HOLD_S): a feed that stopped longer ago than that
        # fed nobody who could still resume, and the new holder starts afresh
        found = self.redis.run(USE, lambda r: r.get(FED), None)
        if not isinstance(found, bytes):
            return None
        try:
            return datetime.fromisoformat(found.decode())
        except ValueError:
            return None

    def fed_until(self, at: datetime) -> None:
        self.redis.run(USE, lambda r: r.set(FED, at.isoformat(), px=int(HOLD_S * 1000)), None)

    @property
    def last_id(self) -> int:
        return self.local.last_id

    @property
    def subscribers(self) -> int:
        return self.local.subscribers

    # ---- the relay: the shared stream to this process's streams ----

    async def relay(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self.redis.up and await _wait(stop, RETRY_S):
                return
            try:
                batches = await asyncio.to_thread(self._read)
            except self.redis.errors as exc:
                self.redis.failed(USE, exc)
                await _wait(stop, RETRY_S)
                continue
            self.redis.worked()
            for entry, fields in batches:
                self._cursor = entry.decode() if isinstance(entry, bytes) else str(entry)
                self.local.deliver(_event(entry, fields))

    def _read(self) -> list[tuple[Any, dict[bytes, bytes]]]:
        if self._cursor is None:  # start from what is there now: earlier events are replays
            last = self._reader.xrevrange(STREAM, count=1)
            self._cursor = last[0][0].decode() if last else "0-0"
        found = self._reader.xread({STREAM: self._cursor}, count=500, block=BLOCK_MS)
        return [item for _stream, items in found or [] for item in items]


def _id(entry: bytes | str) -> int:
    return int((entry.decode() if isinstance(entry, bytes) else entry).split("-")[0])


def _event(entry: bytes | str, fields: dict[bytes, bytes]) -> LiveEvent:
    return LiveEvent(_id(entry), fields[b"name"].decode(), fields[b"data"].decode(), time.monotonic())


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True if it was."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False
