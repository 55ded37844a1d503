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

import httpx
import numpy as np
from sqlalchemy import select

from collector.db.session import transaction
from collector.fleet import repository as fleet_repository
from collector.ingest.models import Segment, SegmentFingerprint
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
    database_url: str, tmp_path: object
) -> None:
    from pathlib import Path

    workdir = Path(str(tmp_path))
    c = Collector(database_url, workdir, extra_env={"SODAV_COLLECTOR_WORKER__ENABLED": "true"})
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
