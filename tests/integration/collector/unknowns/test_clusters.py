"""Unmatched music becomes clusters: the same unknown song on two stations is one cluster, a
second song another, and the talk between them none.

Real music and speech, fingerprinted as an agent does, stored as two stations' segments in a
real database (both backends), put through the worker's own cycle (:func:`run_once`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from collector.db import locks
from collector.db.session import transaction
from collector.fleet.models import Station
from collector.ingest.models import Segment
from collector.recognizers.clustering import CLUSTERING_JOB, Clustering
from collector.recognizers.clusters import UnknownCluster, UnknownScan, UnknownSpan
from collector.settings import CollectorSettings
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.programmes import run_worker, two_stations


def test_one_unknown_song_on_two_stations_is_one_cluster(collector: Collector, tmp_path: Path) -> None:
    two_stations(collector, tmp_path)
    run_worker(collector)
    with collector.session() as s:
        spans = s.scalars(select(UnknownSpan).order_by(UnknownSpan.start)).all()
        clusters = {cl.id: cl for cl in s.scalars(select(UnknownCluster))}
        by_cluster: dict[int, list[UnknownSpan]] = {}
        for sp in spans:
            by_cluster.setdefault(sp.cluster_id, []).append(sp)
        stations = {cid: {sp.station_id for sp in sps} for cid, sps in by_cluster.items()}
    # song X on both stations, song Y on one: two clusters, the talk in none
    assert len(clusters) == 2, [(sp.station_id, sp.start, sp.end, sp.cluster_id) for sp in spans]
    assert sorted(len(v) for v in stations.values()) == [1, 2]
    x = next(cid for cid, st in stations.items() if len(st) == 2)
    assert clusters[x].spans == 2
    assert 100 <= clusters[x].airtime_s <= 150
    for sp in spans:
        assert sp.seconds >= 20
    assert clusters[x].lookup == "acoustid"  # a span long enough to look up
    assert clusters[x].best_span_id in {sp.id for sp in by_cluster[x]}


def test_a_worker_leaves_unknown_music_to_a_later_cycle_while_another_clusters(
    collector: Collector, tmp_path: Path
) -> None:
    """Two workers clustering the same song at once waited on each other's cluster rows until
    their cycles committed, and deadlocked (the load run of bench/load/, PostgreSQL): one
    clusters at a time, the other goes on matching and loses nothing."""
    if not collector.database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one worker")
    two_stations(collector, tmp_path)
    other = collector.session()  # another worker, in the middle of its cycle's clustering
    assert locks.lock(other, locks.JOB, CLUSTERING_JOB)
    try:
        run_worker(collector)  # does not wait for the other
        with collector.session() as s:
            assert s.scalar(select(func.count()).select_from(UnknownSpan)) == 0
            assert s.scalar(select(func.count()).select_from(UnknownScan)) == 0
            assert s.scalar(select(func.count()).select_from(Segment).where(Segment.status == "new")) == 0
    finally:
        other.rollback()
        other.close()
    # the stations' next cycle clusters their music from where they were
    with transaction(collector.tx) as s:
        for station_id in s.scalars(select(Station.id)):
            Clustering(
                CollectorSettings(database_url=collector.database_url).recognizers.music_min_s
            ).station(s, station_id)
    with collector.session() as s:
        assert s.scalar(select(func.count()).select_from(UnknownCluster)) == 2
