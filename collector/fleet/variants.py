"""Which playback-rate variants an agent fingerprints for a station: the directive it receives.

Radio stations often play music a little fast or slow (pitch and tempo together), which
breaks Chromaprint: ±2 % leaves under 30 % of windows identifiable. Fingerprinting the
audio at resampled rates undoes it, at a cost in agent CPU (small) and upload bytes (one
fingerprint per variant). The policy keeps uploads near one variant per segment:

* **unknown rate**: full sweep, the nine variants −4 … +4 % in 1 % steps;
* **learned**: once the matching worker has pinned a rate on the station
  (:mod:`collector.matching.rates`), only it is requested; it may lie between two sweep
  variants (say −2.5 %), since it is measured from the matches themselves;
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

from datetime import UTC, datetime, timedelta

from collector.fleet.models import Agent, Station
from shared.schemas import AgentDirectiveV1

FULL_SWEEP = [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000]
RECHECK_GRID = [-40000, -20000, 0, 20000, 40000]
SWEEP_EVERY = timedelta(hours=12)
SWEEP_FOR = timedelta(minutes=8)


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


def directives_for(agent: Agent, now: datetime | None = None) -> list[AgentDirectiveV1]:
    """What the agent fingerprints for each of its stations, sent back with every acknowledgement."""
    return [AgentDirectiveV1(station=s.slug, rate_variants_ppm=variants_for(s, now)) for s in agent.stations]
