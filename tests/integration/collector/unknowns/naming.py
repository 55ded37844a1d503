"""The unknown-music tests' stations, songs and lookups: the agents' side of an excerpt request
is played by cutting the asked seconds from the programme's file and answering through the
collector's own :func:`collector.ingest.excerpts.answer`, as ``POST /api/v1/excerpts`` does;
the lookups go to the AudD/AcoustID stand-in."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from collector.catalog.models import Recording
from collector.db.session import transaction
from collector.fleet import service as fleet_service
from collector.fleet.models import Agent, Station
from collector.ingest.excerpts import ExcerptRequest, answer
from collector.plays.models import Play
from collector.recognizers.clip import clip
from collector.recognizers.lookups import Lookups
from collector.recognizers.service import Recognizers
from shared.schemas import ExcerptV1
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.programmes import standin_settings
from tests.support.recognizers_standin import Standin

# songs that musicness calls music from end to end, and that do not repeat themselves in the
# parts played (a chorus would match the earlier one): City.ogg, Freeway.ogg
ONE_WAY, SONG = 4, 8
# a song that musicness cuts in three, at 36 s and 80 s (supertux-data, a test dependency)
QUIET_PASSAGES = Path("/usr/share/games/supertux2/music/forest/forest-cave.ogg")
NEWS = [
    "Et maintenant la météo: un ciel dégagé sur Dakar, du vent sur la Petite Côte.",
    "Vous écoutez la matinale; à neuf heures, le journal des sports avec les Lions.",
]


def add_stations(c: Collector, *names: str) -> None:
    for n in names:
        c.add_station(f"radio-{n}")
        with transaction(c.tx) as s:
            fleet_service.create_agent(s, f"box-{n}", [f"radio-{n}"])


def answer_excerpts(c: Collector, aired: dict[str, list[tuple[Path, datetime]]]) -> int:
    """The agents' side: each pending request's seconds, cut from the file that aired them."""
    n = 0
    with transaction(c.tx) as s:
        for req in s.scalars(select(ExcerptRequest).where(ExcerptRequest.state == "pending")).all():
            station = s.get_one(Station, req.station_id)
            agent = s.scalars(select(Agent).where(Agent.name == f"box-{station.slug[-1]}")).one()
            path, start = max((p for p in aired[station.slug] if p[1] <= req.start), key=lambda p: p[1])
            audio = clip(path, (req.start - start).total_seconds(), (req.end - req.start).total_seconds())
            body = ExcerptV1(
                agent=agent.name,
                request=req.wire_id,
                station=station.slug,
                start=req.start,
                end=req.end,
                audio=base64.b64encode(audio).decode(),
            )
            assert answer(s, agent, body)
            n += 1
    return n


def name_clusters(c: Collector, standin: Standin, aired: dict[str, list[tuple[Path, datetime]]]) -> None:
    """The lookups until nothing moves (AcoustID, the excerpt asked and answered, AudD)."""
    settings = standin_settings(c, standin)
    with Recognizers(settings, c.tx) as recognizers:
        lookups = Lookups(c.tx, recognizers)
        for step in range(1, 10):
            later = datetime.now(UTC) + timedelta(minutes=step)  # a pending excerpt's wait is over
            if not lookups.tick(now=later) and not answer_excerpts(c, aired):
                return
            answer_excerpts(c, aired)


def played(c: Collector, slug: str, since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """Where the learned recording's plays on the station between the two instants start and end."""
    with c.session() as s:
        first, last = s.execute(
            select(func.min(Play.start), func.max(Play.end))
            .join(Station, Station.id == Play.station_id)
            .join(Recording, Recording.id == Play.recording_id)
            .where(Station.slug == slug, Recording.source == "audd", Play.start >= since, Play.start < until)
        ).one()
    assert first is not None and last is not None, slug
    return first, last
