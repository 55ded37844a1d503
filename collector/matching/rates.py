"""Playback-rate learning: which variants each agent should fingerprint for a station.

Radio stations often play music a little fast or slow (pitch and tempo together), which
breaks Chromaprint: ±2 % leaves under 30 % of windows identifiable. Fingerprinting the
audio at resampled rates undoes it, at a cost in agent CPU (small) and upload bytes (one
fingerprint per variant). The policy keeps uploads near one variant per segment:

* **unknown rate**: full sweep, the nine variants −4 … +4 % in 1 % steps;
* **learned**: once ``LEARN_MIN_MATCHES`` of the station's recent matches (of the last
  ``LEARN_WINDOW``) agree on one variant for at least ``LEARN_AGREEMENT`` of them, that rate
  is pinned on the station and only it is requested;
* **precise rate**: the sweep's 1 % grid leaves a station at, say, −2.5 % half a step from
  the nearest variant, where only ~70 % of segments match. The true rate is measured from
  the matches themselves (:func:`estimate_rate_ppm`: how fast recording offsets advance
  against broadcast time within each play) and fingerprinted exactly;
* **periodic re-check**: every ``SWEEP_EVERY``, for ``SWEEP_FOR``, the pinned rate is sent
  together with ``RECHECK_GRID`` (−4 … +4 % in 2 % steps), so a station that changes its rate
  is re-learned: any rate within ±5 % is then at most 1 % from a variant, close enough for
  matches whose offsets measure the new rate precisely.

Upload cost, measured (docs/benchmarks.md, bench/ingest): one variant is 2.82 MB per
station-day; the re-check adds at most 5 variants for 2 × 8 minutes a day, i.e. at most
5 × 16/1440 ≈ 5.6 %, 2.98 MB per station-day in all. The full nine-variant sweep (21 MB a
day) only runs while a station's rate is unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.fleet.models import Agent, Station
from collector.ingest.models import Segment, SegmentMatch
from shared.schemas import AgentDirectiveV1

FULL_SWEEP = [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000]
LEARN_WINDOW = 30
LEARN_MIN_MATCHES = 12
LEARN_AGREEMENT = 0.8
RECHECK_GRID = [-40000, -20000, 0, 20000, 40000]
SWEEP_EVERY = timedelta(hours=12)
SWEEP_FOR = timedelta(minutes=8)
RATE_RESOLUTION_PPM = 1000  # a measured rate is rounded to 0.1 %
MIN_RUN_S = 40.0  # a play must span this long to measure its rate
MIN_RUNS = 2


def in_sweep(now: datetime) -> bool:
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (since_midnight % SWEEP_EVERY) < SWEEP_FOR


def recheck_variants(pinned: int) -> list[int]:
    return sorted({pinned, *RECHECK_GRID})


def variants_for(station: Station, now: datetime | None = None) -> list[int]:
    now = now or datetime.now(UTC)
    if station.rate_ppm is None:
        return list(FULL_SWEEP)
    if in_sweep(now):
        return recheck_variants(station.rate_ppm)
    return [station.rate_ppm]


def directives_for(session: Session, agent: Agent, now: datetime | None = None) -> list[AgentDirectiveV1]:
    return [AgentDirectiveV1(station=s.slug, rate_variants_ppm=variants_for(s, now)) for s in agent.stations]


def learn(session: Session, station: Station, now: datetime | None = None) -> int | None:
    """Pin the station's rate from its recent matches; return the pinned rate.

    The rate measured from offset progressions (:func:`estimate_rate_ppm`) wins, since it
    also finds rates between sweep variants; otherwise the variant that most recent
    matches agree on is pinned.
    """
    rows = session.execute(
        select(
            SegmentMatch.rate_ppm, SegmentMatch.value_start, SegmentMatch.recording_id, SegmentMatch.offset_s
        )
        .join(Segment, Segment.id == SegmentMatch.segment_id)
        .where(Segment.station_id == station.id)
        .order_by(Segment.start.desc())
        .limit(LEARN_WINDOW)
    ).all()
    if len(rows) < LEARN_MIN_MATCHES:
        return station.rate_ppm
    measured = estimate_rate_ppm(
        sorted((r.value_start.timestamp(), r.recording_id, r.offset_s) for r in rows)
    )
    rate, count = Counter(r.rate_ppm for r in rows).most_common(1)[0]
    if measured is not None and abs(measured - rate) <= 10000:
        rate = measured
    elif count / len(rows) < LEARN_AGREEMENT:
        return station.rate_ppm
    if rate != station.rate_ppm:
        station.rate_ppm = rate
        station.rate_learned_at = now or datetime.now(UTC)
    return station.rate_ppm


def estimate_rate_ppm(points: Sequence[tuple[float, int, float]]) -> int | None:
    """The station's playback rate from its segment matches, or None when they are too few.

    ``points`` are ``(broadcast seconds, recording id, recording offset seconds)`` of matched
    segments in time order. Consecutive matches of one recording whose offsets advance at a
    plausible rate form a run (a play); the slope of offset against time over a run of 40 s
    or more is the rate, to about 0.1 % (a value is 0.12 s). The median over runs, weighted
    by span, resists a stray run; it is rounded to ``RATE_RESOLUTION_PPM``.
    """
    runs: list[list[tuple[float, float]]] = []
    last: tuple[float, int, float] | None = None
    for t, rec, off in points:
        if last is not None and rec == last[1] and 0 < t - last[0] <= 60:
            slope = (off - last[2]) / (t - last[0])
            if 0.93 <= slope <= 1.07:
                runs[-1].append((t, off))
                last = (t, rec, off)
                continue
        runs.append([(t, off)])
        last = (t, rec, off)
    slopes: list[float] = []
    weights: list[float] = []
    for run in runs:
        span = run[-1][0] - run[0][0]
        if span < MIN_RUN_S or len(run) < 4:
            continue
        ts = np.array([p[0] for p in run])
        offs = np.array([p[1] for p in run])
        slopes.append(float(np.polyfit(ts - ts[0], offs, 1)[0]))
        weights.append(span)
    if len(slopes) < MIN_RUNS:
        return None
    order = np.argsort(slopes)
    cum = np.cumsum(np.array(weights)[order])
    median = slopes[int(order[np.searchsorted(cum, cum[-1] / 2)])]
    ppm = round((median - 1.0) * 1e6 / RATE_RESOLUTION_PPM) * RATE_RESOLUTION_PPM
    return int(ppm)
