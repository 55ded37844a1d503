"""Seed stations, catalog recordings, plays, segments and events straight into a collector database.

What is under test with these is reporting, not matching: plays are written as the matcher
would write them, and the seed keeps its own list so tests can recount totals independently.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.fleet.models import Agent, Station
from collector.ingest.models import Event, Segment
from collector.plays.models import Play
from shared.codec import FingerprintSegment, encode

RECORDINGS = [
    # external_id, title, artist, isrc, label, composer
    ("SOD-0001", "Yéen ñoo dëkk", "Awa Ndiaye", "SNA012600001", "Studio Xippi", "Awa Ndiaye"),
    ("SOD-0002", "Dakar la nuit", "Les Étoiles", "SNA012600002", "Label Teranga", "Moussa Sarr"),
    ("SOD-0003", "Sabar & Co", "Les Étoiles", "SNA012600003", "Label Teranga", None),
    ("SOD-0004", "Ŋoor", "Ibou Faye", None, None, "Ibou Faye"),
]
# external_id: ISWC, publisher (what the relevé files besides the recording)
WORKS = {
    "SOD-0001": ("T-345.246.800-1", "Éditions Xippi"),
    "SOD-0002": ("T-345.246.801-2", "Teranga Publishing"),
    "SOD-0003": (None, "Teranga Publishing"),
    "SOD-0004": ("T-345.246.803-4", None),
}
# the stations were set up in December 2025, before the plays
STATIONS_CREATED = datetime(2025, 12, 1, tzinfo=UTC)


def fake_fingerprint(seed: int) -> bytes:
    values = np.random.default_rng(seed).integers(0, 2**32, size=200, dtype=np.uint32)
    return encode(FingerprintSegment(values, datetime(2026, 1, 1, tzinfo=UTC), 11025, 11025 * 25))


@dataclass
class Seeded:
    stations: dict[str, int] = field(default_factory=dict)
    recordings: dict[str, int] = field(default_factory=dict)
    # (station slug, external_id, start, end, duration, status)
    plays: list[tuple[str, str, datetime, datetime, float, str]] = field(default_factory=list)
    agent_id: int = 0


def seed(session: Session, stations: tuple[str, ...] = ("rfm", "sud", "zik"), seed_value: int = 7) -> Seeded:
    """Three stations, four recordings, plays in Dec 2025 – Feb 2026 (January is the test month)."""
    rnd = random.Random(seed_value)
    out = Seeded()
    for slug in stations:
        st = Station(slug=slug, name=f"Radio {slug.upper()}", created_at=STATIONS_CREATED)
        session.add(st)
        session.flush()
        out.stations[slug] = st.id
    agent = Agent(name="agent-1", stations=[session.get(Station, i) for i in out.stations.values()])
    session.add(agent)
    for i, (ext, title, artist, isrc, label, composer) in enumerate(RECORDINGS):
        rec = Recording(
            external_id=ext,
            title=title,
            artist=artist,
            isrc=isrc,
            label=label,
            composer=composer,
            iswc=WORKS[ext][0],
            publisher=WORKS[ext][1],
            duration=200.0 + i,
            fingerprint=fake_fingerprint(i),
            fingerprint_sha256=hashlib.sha256(ext.encode()).hexdigest(),
        )
        session.add(rec)
        session.flush()
        out.recordings[ext] = rec.id
    session.flush()
    out.agent_id = agent.id
    # plays every ~2 h per station from 30 Dec 2025 to 2 Feb 2026, the last day's still open
    t0 = datetime(2025, 12, 30, 0, 0, tzinfo=UTC)
    for slug in stations:
        t = t0 + timedelta(minutes=rnd.randrange(0, 120))
        while t < datetime(2026, 2, 3, tzinfo=UTC):
            ext = rnd.choice(RECORDINGS)[0]
            duration = round(rnd.uniform(30.0, 240.0), 2)
            status = "open" if t >= datetime(2026, 2, 2, tzinfo=UTC) or rnd.random() < 0.03 else "final"
            add_play(session, out, slug, ext, t, duration, status)
            t += timedelta(minutes=rnd.randrange(60, 180))
    # the edges of January, to the second
    add_play(session, out, "rfm", "SOD-0001", datetime(2026, 1, 31, 23, 59, 0, tzinfo=UTC), 50.0, "final")
    add_play(session, out, "rfm", "SOD-0001", datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC), 60.0, "final")
    add_play(session, out, "rfm", "SOD-0002", datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), 70.0, "final")
    session.flush()
    return out


def add_play(
    session: Session, out: Seeded, slug: str, ext: str, start: datetime, duration: float, status: str
) -> None:
    end = start + timedelta(seconds=duration)
    session.add(
        Play(
            station_id=out.stations[slug],
            recording_id=out.recordings[ext],
            start=start,
            end=end,
            duration=duration,
            offset_start=0.0,
            offset_end=duration,
            confidence=0.9,
            matched_fraction=0.8,
            rate_ppm=0,
            status=status,
        )
    )
    out.plays.append((slug, ext, start, end, duration, status))


def add_segments(
    session: Session, out: Seeded, slug: str, start: datetime, count: int, status: str, level: float | None
) -> None:
    """``count`` consecutive 10-second segments from ``start``."""
    base = (session.query(Segment).count() + 1) * 100_000
    for i in range(count):
        session.add(
            Segment(
                agent_id=out.agent_id,
                station_id=out.stations[slug],
                seq=base + i,
                start=start + timedelta(seconds=10 * i),
                duration=10.0,
                level_dbfs=level,
                status=status,
            )
        )
    session.flush()


def add_event(
    session: Session, out: Seeded, slug: str, kind: str, start: datetime, end: datetime | None
) -> None:
    seq = session.query(Event).count() + 1
    session.add(
        Event(agent_id=out.agent_id, station_id=out.stations[slug], kind=kind, seq=seq, start=start, end=end)
    )
    session.flush()
