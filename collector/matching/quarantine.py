"""Segments the worker puts aside, so that one bad segment never blocks the queue.

The ingest refuses what it can (times far from the collector's clock, more values than a
segment's duration allows, a blob starting outside its segment: ``shared.schemas``); what is
in the database all the same (stored by an older collector, or by hand) is screened here when
it is claimed, from the blobs' headers alone. Anything that still fails while a station's
segments are matched and its plays rebuilt is quarantined too, with the failure as its reason.
A quarantined segment keeps its row and its fingerprints: ``sodav-collector segments
quarantined`` lists them, ``segments retry`` puts them back in the queue. Nothing here commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collector.fleet.models import Agent, Station
from collector.ingest.models import Segment
from collector.ingest.service import TimeWindow
from shared.schemas import check_blob

log = logging.getLogger("collector.worker")
QUARANTINED = "quarantined"
# a segment accepted at the edge of the window may wait in the queue a while before it is claimed
QUEUE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Screened:
    segment: Segment
    values: int  # fingerprint values over every variant, as the blobs' headers announce them


def problem(seg: Segment, window: TimeWindow, now: datetime) -> tuple[str | None, int]:
    """Why the segment cannot be processed (None if it can), and how many values it holds."""
    lenient = TimeWindow(window.max_age + QUEUE_GRACE, window.max_ahead)
    why = lenient.outside(seg.start, now)
    if why is not None:
        return f"start {why}", 0
    if not 0 < seg.duration <= 3600:
        return f"duration {seg.duration} s is not between 0 and 3600 s", 0
    values = 0
    for fp in seg.fingerprints:
        try:
            values += check_blob(fp.data, seg.start, seg.duration).n_values
        except ValueError as exc:
            return f"fingerprint at {fp.rate_ppm} ppm: {exc}", 0
    return None, values


def screen(
    session: Session, segments: Sequence[Segment], window: TimeWindow, now: datetime
) -> list[Screened]:
    """Quarantine the claimed segments that cannot be processed; return the others."""
    kept = []
    for seg in segments:
        why, values = problem(seg, window, now)
        if why is None:
            kept.append(Screened(seg, values))
        else:
            quarantine(session, seg, why)
    return kept


def quarantine(session: Session, seg: Segment, reason: str) -> None:
    seg.status = QUARANTINED
    seg.reason = reason[:2000]
    agent, station = session.get(Agent, seg.agent_id), session.get(Station, seg.station_id)
    log.warning(
        "quarantined segment id=%d agent=%s station=%s seq=%d: %s",
        seg.id,
        agent.name if agent else seg.agent_id,
        station.slug if station else seg.station_id,
        seg.seq,
        reason,
    )


def within_budget(screened: Sequence[Screened], max_values: int) -> tuple[list[Segment], list[Segment]]:
    """The segments to process this cycle (at least one, then as long as their values stay within
    ``max_values``), and those to hand back to the queue for the next."""
    take: list[Segment] = []
    total = 0
    for n, item in enumerate(screened):
        if take and total + item.values > max_values:
            return take, [s.segment for s in screened[n:]]
        take.append(item.segment)
        total += item.values
    return take, []
