"""A poisoned or amplified segment never blocks the matching queue (issue #16, items 9 and 10).

Segments the ingest would refuse today may already sit in a database (stored by an older
collector, or written by hand): the worker of a real ``sodav-collector serve`` puts them
aside with a reason, and every other agent's audio is matched as usual.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select, update

from collector.db.base import UTCDateTime
from collector.db.migrate import alembic_config, upgrade
from collector.db.session import transaction
from collector.fleet import repository as fleet_repository
from collector.fleet import service
from collector.ingest.models import Segment, SegmentFingerprint
from collector.settings import CollectorSettings
from collector.worker import run_once
from shared.codec import FingerprintSegment, encode
from tests.fixtures.collector import Collector
from tests.support.payloads import RECENT, segment, upload


def _legacy_segment(c: Collector, agent: str, station: str, seq: int, start: datetime, values: int) -> int:
    """A segment as an older collector stored it, past today's ingest checks."""
    fp = FingerprintSegment(np.zeros(values, dtype=np.uint32), start, 11025, 110250)
    with transaction(c.tx) as s:
        seg = Segment(
            agent_id=fleet_repository.agent(s, agent).id,  # type: ignore[union-attr]
            station_id=fleet_repository.station(s, station).id,  # type: ignore[union-attr]
            seq=seq,
            start=start,
            duration=10.0,
            status="new",
        )
        seg.fingerprints = [SegmentFingerprint(rate_ppm=0, data=encode(fp))]
        s.add(seg)
        s.flush()
        return seg.id


def _statuses(c: Collector) -> dict[int, tuple[str, str | None]]:
    with c.session() as s:
        return {
            sid: (st, why) for sid, st, why in s.execute(select(Segment.id, Segment.status, Segment.reason))
        }


def test_poisoned_and_amplified_segments_are_quarantined_and_the_rest_goes_on(
    database_url: str, tmp_path: Path
) -> None:
    c = Collector(database_url, tmp_path, extra_env={"SODAV_COLLECTOR_WORKER__ENABLED": "true"})
    c.add_station("rfm")
    c.add_station("zik")
    c.start()
    try:
        good = c.add_agent("box1", ["rfm"])
        c.add_agent("box2", ["zik"])
        poison = [
            _legacy_segment(c, "box2", "zik", 0, datetime(1, 1, 1, 0, 5, tzinfo=UTC), 80),
            _legacy_segment(c, "box2", "zik", 1, datetime(9999, 12, 31, 23, 50, tzinfo=UTC), 80),
            _legacy_segment(c, "box2", "zik", 2, RECENT, 1 << 20),  # 2**20 values for 10 s
        ]
        # every other agent's audio, uploaded before and after the poison
        for batch in range(2):
            segs = [
                segment("rfm", 10 * batch + i, start=RECENT + timedelta(seconds=100 * batch + 10 * i))
                for i in range(10)
            ]
            r = httpx.post(
                c.url + "/api/v1/uploads",
                json=upload("box1", segs, batch_id=f"b{batch}"),
                headers={"Authorization": f"Bearer {good}"},
                timeout=30,
            )
            assert r.status_code == 200, r.text
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            states = _statuses(c)
            if all(st not in ("new", "claimed") for st, _ in states.values()):
                break
            time.sleep(0.5)
        states = _statuses(c)
        others = [st for sid, (st, _) in states.items() if sid not in poison]
        assert len(others) == 20 and set(others) <= {"matched", "unmatched"}, states
        for sid in poison:
            assert states[sid][0] == "quarantined", states
        assert "window" in (states[poison[0]][1] or "") and "window" in (states[poison[1]][1] or "")
        assert "values" in (states[poison[2]][1] or "")
        log = c.log()
        assert f"quarantined segment id={poison[2]} agent=box2 station=zik seq=2" in log
        assert "matching cycle failed" not in log
    finally:
        c.close()

    env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=database_url)
    listed = subprocess.run(
        [sys.executable, "-m", "collector.cli", "segments", "quarantined"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:5] == ["ID", "AGENT", "STATION", "SEQ", "START"]
    assert len(lines) == 4 and all(" box2 " in f" {line} " for line in lines[1:])
    assert "3 quarantined segment(s)" in listed.stderr


def _box(c: Collector, stations: list[str]) -> None:
    for slug in stations:
        c.add_station(slug)
    with transaction(c.tx) as s:
        service.create_agent(s, "box1", stations)


def test_a_failure_while_one_station_is_processed_quarantines_that_station_only(
    database_url: str, tmp_path: Path
) -> None:
    """A segment matched long ago with a start near 9999 breaks every rebuild of its station's
    plays; the cycle still finishes the other station, and says what failed."""
    c = Collector(database_url, tmp_path)
    try:
        _box(c, ["rfm", "zik"])
        poisoned = _legacy_segment(c, "box1", "zik", 0, datetime(9999, 12, 31, 23, 59, 55, tzinfo=UTC), 80)
        with transaction(c.tx) as s:
            s.execute(update(Segment).where(Segment.id == poisoned).values(status="unmatched"))
        good = [
            _legacy_segment(c, "box1", st, 10 + i, RECENT + timedelta(seconds=10 * i), 80)
            for st in ("rfm", "zik")
            for i in range(3)
        ]
        settings = CollectorSettings(database_url=database_url, environment="test")
        _catalog, done = run_once(c.tx, None, settings)
        assert done == 6
        states = _statuses(c)
        assert [states[sid][0] for sid in good[:3]] == ["unmatched"] * 3
        for sid in good[3:]:
            assert states[sid][0] == "quarantined"
            assert "processing failed: OverflowError" in (states[sid][1] or "")
    finally:
        c.engine.dispose()


def test_migration_0006_quarantines_legacy_times(database_url: str, tmp_path: Path) -> None:
    command.downgrade(alembic_config(database_url), "0005")  # the revision before 0006
    c = Collector(database_url, tmp_path)
    try:
        _box(c, ["rfm"])
        legacy = sa.table(
            "segments",
            *(sa.column(n) for n in ("agent_id", "station_id", "seq", "duration", "status")),
            sa.column("start", UTCDateTime()),
            sa.column("received_at", UTCDateTime()),
        )
        starts = (datetime(1, 1, 1, tzinfo=UTC), RECENT, datetime(9999, 1, 1, tzinfo=UTC))
        with c.engine.begin() as conn:
            agent, station = conn.execute(sa.text("SELECT a.id, s.id FROM agents a, stations s")).one()
            for seq, start in enumerate(starts):
                conn.execute(
                    legacy.insert().values(
                        agent_id=agent,
                        station_id=station,
                        seq=seq,
                        start=start,
                        duration=10.0,
                        status="matched",
                        received_at=RECENT,
                    )
                )
        upgrade(database_url)
        with c.session() as s:
            rows = s.execute(select(Segment.seq, Segment.status, Segment.reason).order_by(Segment.seq)).all()
        assert [(seq, status) for seq, status, _ in rows] == [
            (0, "quarantined"),
            (1, "matched"),
            (2, "quarantined"),
        ]
        assert "migration 0006" in (rows[0][2] or "")
    finally:
        c.engine.dispose()
