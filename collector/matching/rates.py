"""Playback-rate learning: the rate a station plays music at, measured from its matches.

The variants an agent fingerprints follow the rate pinned on the station
(:mod:`collector.fleet.variants`); this module pins it:

* **learned**: once ``LEARN_MIN_MATCHES`` of the station's recent matches (of the last
  ``LEARN_WINDOW``) agree on one variant for at least ``LEARN_AGREEMENT`` of them, that rate
  is pinned on the station;
* **precise rate**: the sweep's 1 % grid leaves a station at, say, −2.5 % half a step from
  the nearest variant, where only ~70 % of segments match. The true rate is measured from
  the matches themselves (:func:`estimate_rate_ppm`: how fast recording offsets advance
  against broadcast time within each play) and pinned instead, so it is fingerprinted exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from collector.fleet.models import Station
from collector.fleet.service import pin_rate
from collector.matching import repository

LEARN_WINDOW = 30
LEARN_MIN_MATCHES = 12
LEARN_AGREEMENT = 0.8
RATE_RESOLUTION_PPM = 1000  # a measured rate is rounded to 0.1 %
MIN_RUN_S = 40.0  # a play must span this long to measure its rate
MIN_RUNS = 2


def learn(session: Session, station: Station, now: datetime | None = None) -> int | None:
    """Pin the station's rate from its recent matches; return the pinned rate.

    The rate measured from offset progressions (:func:`estimate_rate_ppm`) wins, since it
    also finds rates between sweep variants; otherwise the variant that most recent
    matches agree on is pinned.
    """
    rows = repository.recent_matches(session, station.id, LEARN_WINDOW)
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
    pin_rate(station, rate, now)
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
