"""A station's segments straight into the database, as ingest would store them: noise, one
catalog recording played whole, then noise long enough for the play to become final.

The values are random 32-bit words (a "recording" is a fixed random sequence), so the real
matcher and the real assembly name them exactly; what is under test is what happens after.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.fleet.models import Agent, Station
from collector.ingest.models import Segment, SegmentFingerprint
from shared.chroma import CHROMAPRINT_RATE, item_duration
from shared.codec import FingerprintSegment, encode

STEP = item_duration(0)
VALUES_PER_SEGMENT = 81
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Aired:
    station: Station
    agent: Agent
    recording: Recording
    segments: int


def _blob(values: np.ndarray, start: datetime) -> bytes:
    return encode(
        FingerprintSegment(values, start, CHROMAPRINT_RATE, int(values.size * STEP * CHROMAPRINT_RATE))
    )


def air_one_song(session: Session, slug: str = "rfm-dakar", seed: int = 5, song_s: float = 180.0) -> Aired:
    """Station, agent and recording, and the station's segments: 30 s of noise, the song, 7 min
    of noise. Committed by the caller."""
    rng = np.random.default_rng(seed)
    song = rng.integers(0, 2**32, size=int(song_s / STEP), dtype=np.uint32)
    station = Station(slug=slug, name=slug.replace("-", " ").title())
    session.add(station)
    session.flush()
    agent = Agent(name=f"{slug}-box", stations=[station])
    recording = Recording(
        external_id=f"SOD-{seed:04d}",
        title="Dakar la nuit",
        artist="Les Étoiles",
        isrc="SNA012600002",
        duration=song_s,
        fingerprint=_blob(song, T0),
        fingerprint_sha256=hashlib.sha256(song.tobytes()).hexdigest(),
    )
    session.add_all([agent, recording])
    session.flush()
    noise = lambda seconds: rng.integers(0, 2**32, size=int(seconds / STEP), dtype=np.uint32)  # noqa: E731
    broadcast = np.concatenate([noise(30), song, noise(420)])
    n = VALUES_PER_SEGMENT
    count = broadcast.size // n
    for i in range(count):
        start = T0 + timedelta(seconds=i * n * STEP)
        segment = Segment(
            agent_id=agent.id, station_id=station.id, seq=i, start=start, duration=n * STEP, status="new"
        )
        session.add(segment)
        session.flush()
        session.add(
            SegmentFingerprint(
                segment_id=segment.id,
                segment_start=start,
                rate_ppm=0,
                data=_blob(broadcast[i * n : (i + 1) * n], start),
            )
        )
    session.flush()
    return Aired(station, agent, recording, count)
