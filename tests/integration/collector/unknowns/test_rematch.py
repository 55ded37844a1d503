"""Recordings that join the catalog are found in the audio already heard, and an imported master
takes the place of the recording learned from a broadcast.

Two stations' real audio through the worker's own cycle (both databases): song X matched
nothing; once the society imports it, re-matching requeues its segments and the worker makes
its plays. Song Y, named by an analyst (a learned recording with an ISRC), is then imported
with that ISRC: its plays move to the imported recording and the learned one is retired.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from collector.catalog.models import Recording
from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.matching.rematch import rematch_step
from collector.plays.models import Play
from collector.recognizers import queue
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.learning import merge_imported
from collector.reports.models import GeneratedReport
from collector.reports.revisions import revise
from collector.reports.schedule import generate_period
from collector.settings import CollectorSettings
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.programmes import SONG_X, SONG_Y, START, run_worker, two_stations
from tests.support.audio import track


def _plays(c: Collector, external_id: str) -> list[tuple[int, float]]:
    with c.session() as s:
        rows = s.execute(
            select(Play.station_id, Play.duration)
            .join(Recording, Recording.id == Play.recording_id)
            .where(Recording.external_id == external_id)
        ).all()
    return [(sid, d) for sid, d in rows]


def _rematch(c: Collector) -> int:
    requeued = 0
    while True:
        with transaction(c.tx) as s:
            n = rematch_step(s, 180, batch=7)  # small batches: the pass resumes where it stopped
        if n is None:
            return requeued
        requeued += n


def test_imported_recordings_are_found_in_past_audio(collector: Collector, tmp_path: Path) -> None:
    c = collector
    two_stations(c, tmp_path)
    run_worker(c)
    assert _rematch(c) == 0  # nothing new in the catalog: nothing to look for
    settings = CollectorSettings(database_url=c.database_url, report_dir=tmp_path / "reports")
    day = START.strftime("%Y-%m-%d")
    with transaction(c.tx) as s:
        before = {(r.report, r.scope): r.rows for r, _ in generate_period(s, settings, day)}
    with transaction(c.tx) as s:
        upsert_recording(s, "SODAV-X", track(SONG_X), {"title": "Xalis", "artist": "X"})
    assert _rematch(c) >= 10  # about 70 s of it on each station
    run_worker(c)
    plays = _plays(c, "SODAV-X")
    assert len({sid for sid, _ in plays}) == 2
    assert all(d >= 50 for _, d in plays)
    assert _rematch(c) == 0  # the pass is over

    # the day's reports, generated before, are generated again once the day is finished
    with transaction(c.tx) as s:
        assert revise(s, settings) == 0  # the day is not over yet
        assert revise(s, settings, now=datetime.now(UTC) + timedelta(days=3)) == len(before)
        records = s.scalars(select(GeneratedReport).where(GeneratedReport.period == day)).all()
    airtime = next(r for r in records if (r.report, r.scope) == ("airtime", "all"))
    assert airtime.rows > before[("airtime", "all")]
    assert all("joined the catalog" in (r.revision_note or "") for r in records)


def test_imported_master_replaces_the_learned_recording(collector: Collector, tmp_path: Path) -> None:
    c = collector
    two_stations(c, tmp_path)
    run_worker(c)
    with transaction(c.tx) as s:
        # song Y: the cluster with one span, on radio-b only
        cid = next(
            cl.id
            for cl in s.scalars(select(UnknownCluster))
            if len(set(s.scalars(select(UnknownSpan.station_id).where(UnknownSpan.cluster_id == cl.id)))) == 1
        )
        cluster = s.get_one(UnknownCluster, cid)
        queue.edit(s, cluster, {"title": "Ñaari Fan", "artist": "Kër Gi Band", "isrc": "SNA1B2699999"}, "awa")
        learned = queue.accept(s, cluster, "awa").external_id
    run_worker(c)
    assert _plays(c, learned)  # named by a person: its plays come from the learned recording
    with transaction(c.tx) as s:
        upsert_recording(s, "SODAV-Y", track(SONG_Y), {"title": "Ñaari Fan", "artist": "Kër Gi Band"})
        s.get_one(
            Recording, s.scalar(select(Recording.id).where(Recording.external_id == "SODAV-Y"))
        ).isrc = "SNA1B2699999"
    with transaction(c.tx) as s:
        assert merge_imported(s) == 1
    assert not _plays(c, learned)
    assert _plays(c, "SODAV-Y")
    with c.session() as s:
        assert s.scalar(select(Recording).where(Recording.external_id == learned)) is None
        assert s.get_one(UnknownCluster, cid).recording_id == s.scalar(
            select(Recording.id).where(Recording.external_id == "SODAV-Y")
        )
