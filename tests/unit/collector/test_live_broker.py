"""The in-process broker of live events: ids grow, a reconnecting stream gets exactly what it
missed while it is held (else a fresh snapshot), and a stream too far behind is dropped."""

from __future__ import annotations

import asyncio

import pytest

from collector.live.broker import LocalBroker, sse


def test_replay_from_the_last_event_seen() -> None:
    async def scenario() -> None:
        b = LocalBroker()
        start = b.last_id
        assert b.since(start) == []  # nothing missed
        events = [b.publish("station_status", {"station": f"s{i}"}) for i in range(5)]
        assert [e.id for e in events] == list(range(start + 1, start + 6))
        assert [e.id for e in b.since(events[1].id) or []] == [e.id for e in events[2:]]
        assert b.since(start) == events
        assert b.since(start - 1) is None  # before what is held: a snapshot instead
        assert b.since(events[-1].id + 10) is None  # an id from another process
        assert events[0].sse() == f'id: {events[0].id}\nevent: station_status\ndata: {{"station":"s0"}}\n\n'
        assert sse(7, "play", {"id": 1}) == 'id: 7\nevent: play\ndata: {"id":1}\n\n'

    asyncio.run(scenario())


def test_subscribers_get_events_and_a_slow_one_is_dropped() -> None:
    async def scenario() -> None:
        b = LocalBroker(queue_max=3)
        fast, slow = b.subscribe(), b.subscribe()
        assert b.subscribers == 2
        first = b.publish("play", {"id": 1})
        assert await fast.next(1) == first
        assert await fast.next(0.01) is None  # nothing more: the stream pings instead
        for i in range(4):
            event = b.publish("play", {"id": i})
            assert await fast.next(1) == event
        assert b.subscribers == 1  # the slow one overflowed
        with pytest.raises(ConnectionResetError):
            while True:
                assert await slow.next(1) is not None
        fast.close()
        assert b.subscribers == 0

    asyncio.run(scenario())
