"""Monthly partitions and retention (issue #18, item 3): migration 0013 moves a populated
PostgreSQL database into monthly partitions without losing a row, the app goes on working on
it, rows of any date land and are found, and retention removes old raw audio but no play.

Real music is matched and assembled by the collector's own code (:mod:`tests.support.airplay`,
April 2026); the commands are the real ``sodav-collector``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from collector import retention
from collector.db import partitions
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import alembic_config, upgrade
from collector.db.session import transaction
from collector.fleet.models import Agent, Station
from collector.ingest.models import Heartbeat, Segment, SegmentFingerprint
from collector.ingest.service import store_upload
from collector.matching.models import SegmentMatch
from collector.plays.models import Play, PlaySegment
from collector.reports import distribution
from collector.reports.periods import parse_period
from collector.retention import first_month_kept
from collector.retention import run as retention_run
from collector.settings import CollectorSettings
from collector.upkeep import Upkeep
from collector.worker import close_quiet_plays
from shared.schemas import UploadV1
from shared.segmenter import Segmenter
from tests.support.airplay import SONG_AT, SONG_S, SR, T0, OnAir, at, radio, run
from tests.support.docblocks import example
from tests.support.payloads import segment, upload

SONG_END = SONG_AT + SONG_S
COUNTED = ["segments", "segment_fingerprints", "segment_matches", "plays", "play_segments", "events"]


@pytest.fixture(scope="module")
def broadcast(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    return radio(tmp_path_factory.mktemp("radio"))


def _on_air(factory: sessionmaker[Session], song: Path, audio: np.ndarray) -> OnAir:
    """The song heard in April 2026, its play closed by an outage: final, in the relevé."""
    on_air = OnAir(factory, song)
    on_air.receive(run(audio, 0, SONG_END + 20))
    _outage(factory, at(SONG_END + 20), seq=1)
    close_quiet_plays(factory, now=at(SONG_END + 120))
    return on_air


def _outage(factory: sessionmaker[Session], start: datetime, seq: int) -> None:
    """The stream went down: the agent's outage event, which closes the open play."""
    outage = {
        "station": "rfm",
        "kind": "outage",
        "seq": seq,
        "start": start.isoformat(),
        "reason": "disconnected",
    }
    with transaction(factory) as s:
        agent = s.scalars(select(Agent)).one()
        store_upload(
            s, agent, UploadV1.model_validate(upload("box1", [], [outage])), {"rfm": agent.stations[0].id}
        )


def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as s:
        return {t: int(s.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in COUNTED}  # noqa: S608


def _relevé(factory: sessionmaker[Session]) -> list[list[str]]:
    with factory() as s:
        table, _meta = distribution.playlist(s, "rfm", parse_period("2026-04", "UTC"), "en")
    return [[str(c) for c in row] for row in table.rows]


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def _misplaced(factory: sessionmaker[Session]) -> int:
    """Fingerprints and matches whose ``segment_start`` is not their segment's start."""
    with factory() as s:
        return sum(
            int(
                s.scalar(
                    text(
                        f"SELECT count(*) FROM {t} r WHERE NOT EXISTS (SELECT 1 FROM segments g "  # noqa: S608
                        "WHERE g.id = r.segment_id AND g.start = r.segment_start)"
                    )
                )
                or 0
            )
            for t in partitions.SEGMENT_ROWS
        )


@pytest.mark.backends("postgresql")
def test_migrations_move_a_populated_database_and_the_app_works_on(
    database_url: str, broadcast: tuple[Path, np.ndarray]
) -> None:
    """A month of audio heard and matched, the database taken back to plain tables (before
    0013) and up again, through 0013 (segments, events, plays) and 0014 (fingerprints and
    matches): every row is kept, and the app goes on working on the partitions."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    try:
        on_air = _on_air(factory, *broadcast)
        before, relevé = _counts(factory), _relevé(factory)
        assert before["plays"] == 1 and before["segment_matches"] > 0 and len(relevé) == 1

        _downgrade(database_url, "0013")  # fingerprints and matches plain, without segment_start
        assert _counts(factory) == before
        with factory() as s:
            conn = s.connection()
            assert partitions.partitioned(conn, "segments")
            assert not any(partitions.partitioned(conn, t) for t in partitions.SEGMENT_ROWS)
            assert "segment_start" not in partitions.columns(conn, "segment_fingerprints")
        _downgrade(database_url, "0012")
        assert _counts(factory) == before

        upgrade(database_url)

        assert _counts(factory) == before and _relevé(factory) == relevé
        assert _misplaced(factory) == 0
        with factory() as s:
            conn = s.connection()
            assert all(partitions.partitioned(conn, t) for t in partitions.TABLES)
            names = {p.name for p in partitions.partitions(conn)}
            triggers = set(s.scalars(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'plays'::regclass")))
            april = s.scalar(text("SELECT count(*) FROM segment_fingerprints_p2026_04"))
        assert {
            "segments_p2026_04",
            "segment_fingerprints_p2026_04",
            "segment_matches_p2026_04",
            "plays_p2026_04",
            "events_p2026_04",
            "segments_default",
            "segment_fingerprints_default",
        } <= names
        assert april == before["segment_fingerprints"]  # each in its segment's month
        # the triggers of 0011 and 0012 came along: a new final play still logs its change
        assert {"plays_airtime_change", "plays_report_change"} <= triggers

        # the app on the partitioned tables: the song heard again a day later, matched,
        # assembled, closed, and in the relevé (a second play)
        later = Segmenter(SR, 10.0, [0], T0 + timedelta(days=1))
        on_air.receive(later.feed(broadcast[1][: int((SONG_END + 20) * SR)]) + later.finish())
        _outage(factory, T0 + timedelta(days=1, seconds=SONG_END + 20), seq=2)
        close_quiet_plays(factory, now=T0 + timedelta(days=1, hours=1))
        assert len(_relevé(factory)) == 2
        assert [p.status for p in on_air.plays()] == ["final", "final"]
        assert _counts(factory)["segment_matches"] > before["segment_matches"]
        # an upload sent twice is stored once (ON CONFLICT on the partitioned unique key)
        batch = [segment("rfm", 1000 + n) for n in range(3)]
        for _ in range(2):
            with transaction(factory) as s:
                agent = s.scalars(select(Agent)).one()
                store_upload(
                    s, agent, UploadV1.model_validate(upload("box1", batch)), {"rfm": agent.stations[0].id}
                )
        assert _counts(factory)["segments"] == _counts(factory)["segment_fingerprints"]
        assert _misplaced(factory) == 0

        # and back: the downgrades move every row into plain tables again
        after = _counts(factory)
        _downgrade(database_url, "0012")
        assert _counts(factory) == after
        with factory() as s:
            assert not partitions.partitioned(s.connection())
    finally:
        engine.dispose()


def _segments(factory: sessionmaker[Session], starts: list[datetime], status: str = "unmatched") -> None:
    """Segments of station ``rfm`` heard by ``box1`` (both made if missing), one per start,
    each with its fingerprint."""
    with transaction(factory) as s:
        station = s.scalars(select(Station)).first()
        if station is None:
            station = Station(slug="rfm", name="RFM", created_at=datetime(1999, 1, 1, tzinfo=UTC))
            s.add(Agent(name="box1", stations=[station]))
            s.flush()
        agent = s.scalars(select(Agent)).one()
        first = int(s.scalar(select(func.coalesce(func.max(Segment.seq), -1))) or 0) + 1
        s.add_all(
            Segment(
                agent_id=agent.id,
                station_id=station.id,
                seq=first + n,
                start=t,
                duration=10.0,
                status=status,
                fingerprints=[SegmentFingerprint(rate_ppm=0, data=b"SFP1")],
            )
            for n, t in enumerate(starts)
        )


def test_0014_fills_segment_start_on_both_databases(
    database_url: str, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Fingerprints stored before 0014 get their segment's start, on SQLite too; on PostgreSQL
    one whose segment retention removed (no month to go to) is left out, and said so."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    starts = [datetime(2026, 3, 31, 23, 59, 55, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)]
    try:
        _segments(factory, starts)
        with transaction(factory) as s:
            partitions.ensure(s.connection(), ahead=3)  # March and April 2026 leave DEFAULT
        _downgrade(database_url, "0013")
        with factory() as s:
            assert "segment_start" not in {
                c["name"] for c in inspect(s.connection()).get_columns("segment_fingerprints")
            }
        if backend == "postgresql":
            with transaction(factory) as s:
                s.execute(
                    text("INSERT INTO segment_fingerprints (segment_id, rate_ppm, data) VALUES (999, 0, 'x')")
                )
        upgrade(database_url)
        with factory() as s:
            assert sorted(f.segment_start for f in s.scalars(select(SegmentFingerprint))) == starts
            if backend == "postgresql":
                assert s.scalar(text("SELECT count(*) FROM segment_fingerprints_p2026_03")) == 1
        assert _misplaced(factory) == 0
        if backend == "postgresql":
            assert "segment_fingerprints: 1 rows whose segment retention removed are left out" in caplog.text
    finally:
        engine.dispose()


def test_rows_of_any_month_land_and_are_found(database_url: str, backend: str) -> None:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    far = [datetime(1999, 12, 31, 23, 59, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC)]
    try:
        _segments(factory, far)
        with transaction(factory) as s:
            created = partitions.ensure(s.connection(), ahead=3)
        with factory() as s:
            assert sorted(seg.start for seg in s.scalars(select(Segment))) == far
            assert s.scalar(select(func.count()).select_from(Segment).where(Segment.start >= far[1])) == 1
            if backend == "sqlite":
                assert created == []
                return
            # 1999-12 got its partition, its row moved there; 2090 is too far ahead: DEFAULT keeps it
            assert "segments_p1999_12" in created
            assert "segments_p2090_01" not in {p.name for p in partitions.partitions(s.connection())}
            assert s.scalar(text("SELECT count(*) FROM segments_p1999_12")) == 1
            assert s.scalar(text("SELECT count(*) FROM segments_default")) == 1
            # a segment's fingerprint goes where the segment goes
            assert "segment_fingerprints_p1999_12" in created
            assert s.scalar(text("SELECT count(*) FROM segment_fingerprints_p1999_12")) == 1
            assert s.scalar(text("SELECT count(*) FROM segment_fingerprints_default")) == 1
    finally:
        engine.dispose()


def _settings(database_url: str, **retention: int) -> CollectorSettings:
    return CollectorSettings(
        database_url=database_url,
        retention=retention,
        matching={"rematch_days": 30},
    )


def test_retention_removes_old_audio_and_keeps_plays(
    database_url: str, backend: str, broadcast: tuple[Path, np.ndarray]
) -> None:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    try:
        _on_air(factory, *broadcast)
        with transaction(factory) as s:
            partitions.ensure(s.connection(), ahead=3)  # April 2026's rows leave DEFAULT
        before, relevé = _counts(factory), _relevé(factory)
        with factory() as s:
            plays = [(p.id, p.start, p.end, p.confidence) for p in s.scalars(select(Play))]
        settings = _settings(database_url, segments_months=1)
        now = datetime(2026, 12, 7, tzinfo=UTC)
        assert first_month_kept(settings, now) == date(2026, 11, 1)
        # re-matching looks 180 days back by default: nothing it needs goes
        assert first_month_kept(CollectorSettings(database_url=database_url), now) <= date(2026, 6, 1)

        assert retention_run(factory, settings, dry_run=True, now=now)
        assert _counts(factory) == before

        removed = retention_run(factory, settings, now=now)
        assert sum(r.segments for r in removed if r.done) > 0
        after = _counts(factory)
        assert after["segment_fingerprints"] == after["segment_matches"] == 0
        assert after["plays"] == before["plays"] and after["play_segments"] == before["play_segments"]
        assert after["events"] == before["events"]
        with factory() as s:
            assert [(p.id, p.start, p.end, p.confidence) for p in s.scalars(select(Play))] == plays
            assert s.scalar(select(PlaySegment.segment_id).limit(1)) is not None
            assert s.scalar(select(SegmentFingerprint.id).limit(1)) is None
            assert s.scalar(select(SegmentMatch.segment_id).limit(1)) is None
            if backend == "postgresql":
                assert after["segments"] == 0
                names = {p.name for p in partitions.partitions(s.connection())}
                assert "segments_p2026_04" not in names and "plays_p2026_04" in names
                assert not {"segment_fingerprints_p2026_04", "segment_matches_p2026_04"} & names
            else:  # SQLite keeps the segment rows a play names (its foreign key), without fingerprints
                named = select(PlaySegment.segment_id).distinct().subquery()
                assert after["segments"] == s.scalar(select(func.count()).select_from(named))
        assert _relevé(factory) == relevé
    finally:
        engine.dispose()


def test_retention_drops_a_month_of_segments_with_its_fingerprints(database_url: str, backend: str) -> None:
    """March's segments, and a February segment that came after February's partitions were
    due (it waits in DEFAULT): both go with their fingerprints; November stays whole."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    march, november = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    try:
        _segments(factory, [march, march + timedelta(days=20), november])
        with transaction(factory) as s:
            partitions.ensure(s.connection(), ahead=3, now=march)
        _segments(factory, [datetime(2026, 2, 27, tzinfo=UTC)])  # no February partition: DEFAULT
        removed = retention_run(
            factory, _settings(database_url, segments_months=1), now=datetime(2026, 12, 7, tzinfo=UTC)
        )
        assert sum(r.segments for r in removed if r.done) == 3
        with factory() as s:
            assert [seg.start for seg in s.scalars(select(Segment))] == [november]
            assert [f.segment_start for f in s.scalars(select(SegmentFingerprint))] == [november]
            if backend == "postgresql":
                names = {p.name for p in partitions.partitions(s.connection())}
                went = [r.what for r in removed if r.segments]
                assert went == ["segments_p2026_03", "segments before 2026-11"]
                assert not {f"{t}_p2026_03" for t in ("segments", *partitions.SEGMENT_ROWS)} & names
    finally:
        engine.dispose()


def test_heartbeats_are_kept_30_days_and_each_agents_latest(database_url: str) -> None:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    ages = {"box1": [40, 31, 29, 1], "box2": [90, 60]}  # days; box2 fell silent two months ago
    try:
        with transaction(factory) as s:
            for name, days in ages.items():
                agent = Agent(name=name)
                s.add(agent)
                s.flush()
                s.add_all(
                    Heartbeat(agent_id=agent.id, received_at=now - timedelta(days=d), sent_at=now, payload={})
                    for d in days
                )
        settings = CollectorSettings(database_url=database_url)
        assert settings.retention.heartbeats_days == 30
        assert retention.heartbeats(factory, settings, dry_run=True, now=now) == 3
        assert retention.heartbeats(factory, settings, now=now) == 3
        with factory() as s:
            left = {
                (name, (now - received).days)
                for name, received in s.execute(
                    select(Agent.name, Heartbeat.received_at).join(Agent, Agent.id == Heartbeat.agent_id)
                )
            }
        assert left == {("box1", 29), ("box1", 1), ("box2", 60)}
        assert retention.heartbeats(factory, settings, now=now) == 0
    finally:
        engine.dispose()


def test_retention_keeps_a_month_the_matcher_has_not_read(database_url: str, backend: str) -> None:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    march = datetime(2026, 3, 2, tzinfo=UTC)
    try:
        _segments(factory, [march], status="new")  # uploaded late, not matched yet
        _segments(factory, [march + timedelta(minutes=1)])
        with transaction(factory) as s:
            partitions.ensure(s.connection(), ahead=3)
        removed = retention_run(
            factory, _settings(database_url, segments_months=1), now=datetime(2026, 12, 7, tzinfo=UTC)
        )
        with factory() as s:
            left = sorted(seg.status for seg in s.scalars(select(Segment)))
        if backend == "postgresql":  # the month goes whole or not at all: it waits for the matcher
            assert left == ["new", "unmatched"]
            assert [(r.what, r.done) for r in removed] == [("segments_p2026_03", False)]
            assert "wait for the matcher" in removed[0].note
        else:
            assert left == ["new"]
    finally:
        engine.dispose()


@pytest.mark.backends("postgresql")
def test_the_guides_commands(database_url: str, broadcast: tuple[Path, np.ndarray]) -> None:
    """docs/ops/partitions.md's example, as an operator runs it, on April 2026's audio."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    try:
        _on_air(factory, *broadcast)  # its rows wait in DEFAULT: the template has no April
        env = {
            **os.environ,
            "SODAV_COLLECTOR_DATABASE_URL": database_url,
            "SODAV_COLLECTOR_RETENTION__SEGMENTS_MONTHS": "1",
            "SODAV_COLLECTOR_MATCHING__REMATCH_DAYS": "30",
        }
        out = []
        for line in example("ops/partitions", "partitions-upkeep").splitlines():
            program, *args = shlex.split(line)
            done = subprocess.run(
                [str(Path(sys.executable).parent / program), *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, f"{line}: {done.stderr}"
            out.append(done.stdout)
        ensured, listed, dry, ran = out
        assert "created segments_p2026_04" in ensured and "created plays_p2026_04" in ensured
        assert "created segment_fingerprints_p2026_04" in ensured
        assert "created segment_matches_p2026_04" in ensured
        assert re.search(r"^segments +segments_p2026_04 +2026-04 ", listed, re.MULTILINE)
        assert re.search(r"^segment_matches +segment_matches_p2026_04 +2026-04 ", listed, re.MULTILINE)
        assert re.search(r"^plays +plays_default +DEFAULT ", listed, re.MULTILINE)
        assert "would remove segments_p2026_04" in dry
        assert "removed segments_p2026_04" in ran and "removed 0 heartbeat(s) older than 30 day(s)" in ran
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Play)) == 1
            assert s.scalar(select(func.count()).select_from(Segment)) == 0
        assert len(_relevé(factory)) == 1
    finally:
        engine.dispose()


def test_the_workers_hourly_upkeep(
    database_url: str, backend: str, broadcast: tuple[Path, np.ndarray]
) -> None:
    """What the worker calls every cycle: at its first call, April's partitions are made and
    the policy applied; the next calls within the hour do nothing."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    try:
        _on_air(factory, *broadcast)
        upkeep = Upkeep(_settings(database_url, segments_months=1))
        upkeep.tick(factory)
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(SegmentFingerprint)) == 0
            if backend == "postgresql":
                names = {p.name for p in partitions.partitions(s.connection())}
                assert {"plays_p2026_04", "events_p2026_04"} <= names and "segments_p2026_04" not in names
        _segments(factory, [datetime(2026, 3, 1, tzinfo=UTC)])
        upkeep.tick(factory)  # within the hour: nothing
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Segment).where(Segment.start < T0)) == 1
    finally:
        engine.dispose()


@pytest.mark.backends("postgresql")
def test_retention_gives_way_to_a_busy_table(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report reading March while retention wants it gone: the month stays, and goes at the
    next run."""
    monkeypatch.setattr(retention, "LOCK_TIMEOUT", "200ms")
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    settings = _settings(database_url, segments_months=1)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    try:
        _segments(factory, [datetime(2026, 3, 2, tzinfo=UTC)])
        with transaction(factory) as s:
            partitions.ensure(s.connection(), ahead=3)
        with engine.connect() as reader, reader.begin():
            assert reader.scalar(text("SELECT count(*) FROM segments_p2026_03")) == 1  # holds its lock
            busy = retention.run(factory, settings, now=now)
        assert [(r.what, r.done) for r in busy] == [("segments_p2026_03", False)]
        assert "busy" in busy[0].note
        assert [(r.what, r.done) for r in retention.run(factory, settings, now=now)] == [
            ("segments_p2026_03", True)
        ]
    finally:
        engine.dispose()
