"""When a play becomes final: nothing still to come from its station can change it.

A play stays *open* while a segment yet to arrive could extend it: chaining bridges gaps up to
``BRIDGE_S``, so audio from within that long after its end could. It becomes *final*, and is
never touched again, as soon as one of these holds:

1. **More audio came.** The station has been heard ``QUIET_BEFORE_FINAL`` past the play's end.
2. **The audio stopped.** The agent reported an outage (stream down, disconnected) or a
   silence that began before a continuation could have come (within ``BRIDGE_S`` of the
   play's end) and lasted, or still lasts, past that; and the station's audio up to the stop
   has arrived.
3. **Nothing more arrives.** For ``QUIET_BEFORE_FINAL`` of wall-clock time no segment of the
   station came in and none waits for matching, while the station's agent kept sending
   heartbeats saying its upload queue is empty: it has nothing more to send. When the agent
   is not heard (link down, box off) or holds a backlog, the play waits ``WAIT_FOR_BACKLOG``
   instead, for the audio the agent may still upload; after that it closes all the same, so
   a dead box never keeps plays out of the reports for good.

:func:`close_plays` applies rules 2 and 3 to stations that sent nothing new (the worker calls
it every ``CLOSE_INTERVAL_S``); :func:`collector.plays.service.rebuild_plays` applies all
three when new segments come in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collector.notify import events as notify_events
from collector.plays import repository
from collector.plays.chaining import BRIDGE_S

log = logging.getLogger("collector.plays")

QUIET_BEFORE_FINAL = timedelta(minutes=5)
WAIT_FOR_BACKLOG = timedelta(hours=6)
BRIDGE = timedelta(seconds=BRIDGE_S)
# an agent ends its run at a stop with a short last segment (2 s at least); audio that ends
# this close to the stop's start is all of it
STOP_SLACK = timedelta(seconds=10)
CLOSE_INTERVAL_S = 30.0
# how far before its earliest open play a station's segments and events are read
LOOK_BACK = timedelta(minutes=20)


@dataclass
class StationClock:
    """What the collector knows of a station's audio after its open plays, at ``now``."""

    now: datetime
    latest: datetime | None = None  # where the station's latest audio ends
    last_received: datetime | None = None  # when its latest segment came in
    pending: bool = False  # segments wait for matching: a rebuild will decide
    stops: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # outages, silences
    quiet_agent_since: datetime | None = None  # its agent's latest heartbeat saying "queue empty"

    def is_final(self, end: datetime) -> bool:
        """Whether a play that ends at ``end`` can no longer change (see the module's rules)."""
        if self.latest is not None and self.latest - end > QUIET_BEFORE_FINAL:
            return True
        if self.pending:
            return False
        for start, stop_end in self.stops:
            if (
                start <= end + BRIDGE
                and (stop_end or self.now) > end + BRIDGE
                and self.latest is not None
                and self.latest >= start - STOP_SLACK
            ):
                return True
        if self.now - end <= QUIET_BEFORE_FINAL:
            return False
        received = self.last_received or end
        quiet = self.now - received
        caught_up = (
            self.quiet_agent_since is not None and self.quiet_agent_since - received >= QUIET_BEFORE_FINAL
        )
        return quiet > (QUIET_BEFORE_FINAL if caught_up else WAIT_FOR_BACKLOG)


def station_clock(session: Session, station_id: int, since: datetime, now: datetime) -> StationClock:
    """The station's :class:`StationClock` from its segments and events from ``since`` on."""
    latest, last_received, pending = repository.audio_since(session, station_id, since)
    return StationClock(
        now=now,
        latest=latest,
        last_received=last_received,
        pending=pending,
        stops=repository.stops_since(session, station_id, since),
        quiet_agent_since=repository.agent_quiet_since(session, station_id),
    )


def sweep_candidates(session: Session, now: datetime) -> list[tuple[int, datetime]]:
    """(station id, start of its earliest open play) of the stations whose open plays a sweep
    may close at ``now``; the others need not be read. Rules 1 and 3 need a play that ended more
    than ``QUIET_BEFORE_FINAL`` ago (rule 1 is also the rebuild's, at every new segment), rule 2
    an outage or a silence: a station with neither is skipped, which is most stations on air
    (their latest play is still open and ended moments ago)."""
    bounds = repository.open_play_bounds(session)
    ended = {sid for sid, _start, end in bounds if now - end > QUIET_BEFORE_FINAL}
    stopped = repository.stations_stopped_since(
        session, {sid: start - LOOK_BACK for sid, start, _end in bounds if sid not in ended}
    )
    return [(sid, start) for sid, start, _end in bounds if sid in ended or sid in stopped]


def close_plays(session: Session, now: datetime, take: Callable[[int], bool] = lambda _sid: True) -> int:
    """Make final the open plays that nothing still to come can change (each announced to the
    webhooks that want ``play.final``, in the same transaction); return how many. ``take`` is
    asked for each station that may have some before it is read (the worker's try-lock: a
    station another worker holds is being rebuilt, which applies the same rules)."""
    closed = []
    for station_id, earliest in sorted(sweep_candidates(session, now)):
        if not take(station_id):
            continue
        clock = station_clock(session, station_id, earliest - LOOK_BACK, now)
        for play in repository.open_plays(session, station_id):
            if clock.is_final(play.end):
                play.status = "final"
                closed.append(play)
    if closed:
        session.flush()
        for play in closed:
            notify_events.play_final(session, play)
        log.info("%d open play(s) closed: their stations' audio stopped or nothing more arrived", len(closed))
    return len(closed)
