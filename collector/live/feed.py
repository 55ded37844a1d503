"""What changed, found in the database every ``POLL_S`` seconds and published to the broker.

Heartbeats arrive in any HTTP process and plays are rebuilt by the matching worker, which may
run in another process: the database is the one place that sees them all. While at least one
event stream is open, the feed reads, every two seconds, every station's state with its latest
play (one query each, a few hundred rows) and the plays and flags written since its last look
(``ix_plays_updated_at``); it publishes what differs from what it published before:

- ``station_status``: state, since, detail or latest play changed; the level alone at most
  every ``LEVEL_EVERY_S`` per station. ``agent_offline`` is derived from the time, so it is
  found here too, without any write.
- ``play``: a play created, rebuilt, extended, finalised, flagged or cleared.

No stream open, no query: the first stream after a pause starts from a fresh snapshot, and
the first poll then sends every station's state again. With Redis, the feed that takes over
from another process's (its lease ran out: that process stopped) also sends the plays changed
since that feed's last read (a play sent twice is merged by the page, one never sent is lost).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from collector.catalog.models import Recording
from collector.live.broker import Broker
from collector.plays import flags
from collector.plays.models import Play
from collector.plays.repository import plays_changed_since, plays_overlapping
from collector.plays.stations import statuses_with_last_play
from collector.plays.views import play_json

log = logging.getLogger("collector.live")

POLL_S = 2.0
LEVEL_EVERY_S = 10.0
OVERLAP = timedelta(seconds=10)  # rows committed late by a slow transaction are read again
PLAYS_PER_POLL = 500
SEEN_FOR = timedelta(minutes=15)


def _status_key(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item["state"], item["since"], item["detail"], item["name"], item["last_play"])


class Feed:
    def __init__(
        self, sessions: sessionmaker[Session], broker: Broker, offline_after: timedelta, tz: ZoneInfo
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.offline_after = offline_after
        self.tz = tz
        self._statuses: dict[str, tuple[tuple[Any, ...], float | None, datetime]] = {}
        self._plays: dict[int, tuple[tuple[Any, ...], datetime]] = {}
        self._cursor: datetime | None = None

    def snapshot(self) -> list[dict[str, Any]]:
        """Every station's current ``station_status`` (what a new stream gets first)."""
        with self.sessions() as session:
            return statuses_with_last_play(session, self.offline_after)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await asyncio.to_thread(self.broker.wants_poll):  # may ask Redis
                try:
                    for name, data in await asyncio.to_thread(self.poll):
                        self.broker.publish(name, data)
                except Exception:
                    log.exception("live feed: reading the changes failed; trying again")
            else:  # idle: start again from a fresh look
                self._cursor = None
                self._statuses.clear()
            try:
                await asyncio.wait_for(stop.wait(), POLL_S)
            except TimeoutError:
                pass

    def poll(self, now: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The events since the last poll. The first one after a pause sends every station's state
        (a stream that opened meanwhile may have missed a change since its snapshot) but only
        takes its bearings on the plays."""
        now = now or datetime.now(UTC)
        first = self._cursor is None
        # a feed taking over from another process's (Redis) carries on where that one stopped
        resumed = self.broker.resume_point() if first else None
        if resumed is not None and not now - SEEN_FOR < resumed <= now:
            resumed = None
        since = (self._cursor or resumed or now) - OVERLAP
        self._cursor = now
        out: list[tuple[str, dict[str, Any]]] = []
        with self.sessions() as session:
            for item in statuses_with_last_play(session, self.offline_after, now):
                if self._status_changed(item, now):
                    out.append(("station_status", item))
            for play, rec, slug, flag in self._plays_since(session, since):
                data = play_json(play, rec, slug, self.tz, flag)
                key = (data["end_utc"], data["status"], data["flag"])
                seen = self._plays.get(play.id)
                self._plays[play.id] = (key, now)
                if (seen is None or seen[0] != key) and (not first or resumed is not None):
                    out.append(("play", data))
        self._plays = {k: v for k, v in self._plays.items() if now - v[1] < SEEN_FOR}
        self.broker.fed_until(now)
        return out

    def _status_changed(self, item: dict[str, Any], now: datetime) -> bool:
        key, level = _status_key(item), item["level_dbfs"]
        old = self._statuses.get(item["station"])
        changed = old is None or old[0] != key
        if not changed and old is not None and level != old[1]:
            changed = (now - old[2]).total_seconds() >= LEVEL_EVERY_S
        if changed:
            self._statuses[item["station"]] = (key, level, now)
        return changed

    def _plays_since(self, session: Session, since: datetime) -> list[tuple[Play, Recording, str, Any]]:
        rows = plays_changed_since(session, since, PLAYS_PER_POLL)
        by_id = {p.id: (p, r, slug) for p, r, slug in rows}
        for flag in flags.changed_since(session, since):
            for p, r, slug in plays_overlapping(
                session, flag.station_id, flag.recording_id, flag.start, flag.end
            ):
                by_id[p.id] = (p, r, slug)
        found = flags.active_flags(session, [p for p, _r, _s in by_id.values()])
        return [(p, r, slug, found.get(p.id)) for p, r, slug in by_id.values()]
