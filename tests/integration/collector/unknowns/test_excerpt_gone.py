"""An excerpt the agent no longer has is a clear state, not an error loop: the cluster's next span
is asked for, and with none left the lookup ends ``no_audio``, without a paid request.

The clusters come from two stations' real audio through the worker's cycle; the lookups run
against the stand-in (AcoustID does not name a broadcast stretch), and the agents' answers go
through the collector's own :func:`collector.ingest.excerpts.answer`, as ``POST /api/v1/excerpts``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from collector.db.session import transaction
from collector.fleet.models import Agent, Station
from collector.ingest.excerpts import ExcerptRequest, answer
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.lookups import Lookups
from collector.recognizers.service import Recognizers
from shared.schemas import ExcerptV1
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.programmes import run_worker, standin_settings, two_stations
from tests.support.recognizers_standin import References, Standin


def _gone(c: Collector) -> list[int]:
    """Answer every pending request as an agent that no longer keeps the audio."""
    done = []
    with transaction(c.tx) as s:
        for req in s.scalars(select(ExcerptRequest).where(ExcerptRequest.state == "pending")).all():
            station = s.get_one(Station, req.station_id)
            agent = s.scalars(select(Agent).where(Agent.name == f"box-{station.slug[-1]}")).one()
            body = ExcerptV1(agent=agent.name, request=req.wire_id, station=station.slug, gone="expired")
            assert answer(s, agent, body)
            done.append(req.id)
    return done


def test_gone_excerpts_try_the_next_span_then_end_without_audio(
    collector: Collector, tmp_path: Path, standin_refs: References
) -> None:
    c = collector
    two_stations(c, tmp_path)
    run_worker(c)
    with c.session() as s:
        x = next(cl for cl in s.scalars(select(UnknownCluster)) if cl.spans == 2)
        spans = set(s.scalars(select(UnknownSpan.id).where(UnknownSpan.cluster_id == x.id)))
    later = datetime.now(UTC) + timedelta(minutes=1)
    with Standin(standin_refs) as standin:
        settings = standin_settings(c, standin)
        with Recognizers(settings, c.tx) as recognizers:
            lookups = Lookups(c.tx, recognizers)
            lookups.tick(only=[x.id])  # AcoustID: not found
            lookups.tick(only=[x.id])  # the best span's excerpt is asked
            first = _gone(c)
            lookups.tick(now=later, only=[x.id])  # gone: the other span's is asked
            second = _gone(c)
            lookups.tick(now=later + timedelta(minutes=1), only=[x.id])  # gone too: no audio left
            lookups.tick(now=later + timedelta(minutes=2), only=[x.id])  # nothing more happens
        paid = [r.service for r in standin.requests]
    assert len(first) == len(second) == 1
    with c.session() as s:
        cluster = s.get_one(UnknownCluster, x.id)
        asked = set(s.scalars(select(UnknownSpan.excerpt_request_id).where(UnknownSpan.id.in_(spans))))
        states = set(s.scalars(select(ExcerptRequest.state)))
    assert cluster.lookup == "no_audio" and "no longer keep" in (cluster.lookup_detail or "")
    assert asked == {first[0], second[0]} and states == {"gone"}
    assert paid == ["acoustid"]  # AudD was never paid for audio that was not there
