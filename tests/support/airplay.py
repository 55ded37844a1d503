"""A station on the air for collector tests: real music cut into segments as an agent cuts them,
received, matched and assembled into plays by the collector's own code, on a real database.

``radio()`` is two minutes of broadcast: other music, a catalog song, other music, with the
song's place known to the sample. ``run()`` cuts one agent run of it (``shared.segmenter``,
10-s segments; a crash loses the segment being cut). :class:`OnAir` stores runs as uploads
would, then matches and assembles them as the worker does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.fleet.models import Agent, Station
from collector.ingest import repository as ingest_repository
from collector.ingest.service import store_segments
from collector.matching.catalog import load_catalog
from collector.plays.models import Play
from collector.worker import process
from shared.chroma import CHROMAPRINT_RATE
from shared.segmenter import Segment, Segmenter
from tests.support.audio import excerpt, pcm11k, track

T0 = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)
SONG_AT, SONG_OFFSET, SONG_S = 20.0, 10.0, 80.0  # broadcast second the song starts, where in it, how long
AFTER_S = 20.0  # off-catalog music after it
TOTAL_S = SONG_AT + SONG_S + AFTER_S
SR = CHROMAPRINT_RATE


def radio(tmp: Path) -> tuple[Path, np.ndarray]:
    """The catalog recording (two minutes of a track) and the broadcast, 11 025 Hz mono."""
    song = excerpt(track(2), tmp / "song.mp3", 0, 120)
    other = pcm11k(excerpt(track(9), tmp / "other.mp3", 30, SONG_AT + AFTER_S))
    heard = pcm11k(song)[int(SONG_OFFSET * SR) : int((SONG_OFFSET + SONG_S) * SR)]
    return song, np.concatenate([other[: int(SONG_AT * SR)], heard, other[int(SONG_AT * SR) :]])


def run(audio: np.ndarray, begin: float, end: float, crashed: bool = False) -> list[Segment]:
    """The segments an agent uploads for broadcast seconds [begin, end) of ``audio``."""
    seg = Segmenter(SR, 10.0, [0], T0 + timedelta(seconds=begin))
    outs = seg.feed(audio[int(begin * SR) : int(end * SR)])
    return outs if crashed else outs + seg.finish()


@dataclass
class OnAir:
    """Station ``rfm`` heard by agent ``box1``, the song ``SOD-0001`` in the catalog."""

    factory: sessionmaker[Session]
    song: Path

    def __post_init__(self) -> None:
        with transaction(self.factory) as s:
            upsert_recording(s, "SOD-0001", self.song, {"title": "Song", "artist": "Band"})
            station = Station(slug="rfm", name="Radio RFM", created_at=T0 - timedelta(days=1))
            s.add(station)
            s.flush()
            s.add(Agent(name="box1", stations=[station]))

    def receive(self, outs: list[Segment]) -> None:
        """Store a run's segments, match them and rebuild the plays, as the worker does."""
        with transaction(self.factory) as s:
            agent = s.scalars(select(Agent)).one()
            station_id = agent.stations[0].id
            first = ingest_repository.next_seq(s, agent.id, station_id)
            store_segments(s, agent.id, station_id, first, outs)
            process(s, load_catalog(s), ingest_repository.new_segments(s, agent.id, station_id, first))

    def plays(self) -> list[Play]:
        with self.factory() as s:
            return list(s.scalars(select(Play).order_by(Play.start)))


def spans(outs: list[Segment]) -> list[tuple[datetime, datetime]]:
    return [(o.start, o.start + timedelta(seconds=o.duration)) for o in outs]


def at(seconds: float) -> datetime:
    """The instant ``seconds`` into the broadcast."""
    return T0 + timedelta(seconds=seconds)
