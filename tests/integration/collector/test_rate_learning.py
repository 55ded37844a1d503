"""A station that plays music 2 % fast: its rate is learned from matches and pinned.

Real music sped up as radio does it (pitch and tempo together), fingerprinted at the nine
variants of the full sweep, uploaded over HTTP to a real collector whose matching worker
runs; the station ends up pinned at +2 % and the collector then asks the agent for that one
variant only (outside the periodic sweep window).
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.fleet import variants
from collector.fleet.models import Station
from collector.plays.models import Play
from shared.chroma import CHROMAPRINT_RATE
from shared.codec import encode
from shared.segmenter import Segmenter
from tests.fixtures.collector import Collector
from tests.support.audio import excerpt, pcm11k, track
from tests.support.payloads import heartbeat

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_rate_is_learned_pinned_and_sent_to_the_agent(database_url: str, tmp_path: Path) -> None:
    c = Collector(
        database_url,
        tmp_path,
        extra_env={
            "SODAV_COLLECTOR_WORKER__ENABLED": "true",
            "SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S": "0.2",
        },
    )
    c.start()
    try:
        song = track(4)
        with transaction(c.tx) as s:
            upsert_recording(s, "SODAV-4", song, {"title": "Four", "artist": "Hedgewars"})
        c.add_station("fastfm")
        token = c.add_agent("box", ["fastfm"])
        fast = excerpt(
            song, tmp_path / "fast.wav", 20, 150, af="asetrate=44100*1.02,aresample=44100", codec="wav"
        )
        segmenter = Segmenter(CHROMAPRINT_RATE, 10.0, variants.FULL_SWEEP, START)
        outs = segmenter.feed(pcm11k(fast)) + segmenter.finish()
        assert len(outs) >= 13
        body = {
            "schema_version": 1,
            "agent": "box",
            "batch_id": "sweep-1",
            "sent_at": datetime.now(UTC).isoformat(),
            "segments": [
                {
                    "station": "fastfm",
                    "seq": i,
                    "start": out.start.isoformat(),
                    "duration": out.duration,
                    "fingerprints": [base64.b64encode(encode(fp)).decode() for fp in out.fingerprints],
                }
                for i, out in enumerate(outs)
            ],
            "events": [],
        }
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.post(c.url + "/api/v1/uploads", json=body, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
        # before learning, the collector asks for the whole sweep
        assert r.json()["directives"] == [{"station": "fastfm", "rate_variants_ppm": variants.FULL_SWEEP}]

        deadline = time.monotonic() + 60
        pinned = None
        while time.monotonic() < deadline and pinned is None:
            time.sleep(0.5)
            with c.session() as s:
                pinned = s.scalar(select(Station.rate_ppm).where(Station.slug == "fastfm"))
        assert pinned == 20000, c.log()[-2000:]
        with c.session() as s:
            plays = list(s.scalars(select(Play)))
        assert len(plays) == 1 and plays[0].rate_ppm == 20000
        # 150 s of audio played 2 % fast cover 153 s of the recording
        assert abs((plays[0].offset_end - plays[0].offset_start) - 150 * 1.02) < 6

        hb = heartbeat("box")
        ack = httpx.post(c.url + "/api/v1/heartbeats", json=hb, headers=auth, timeout=30).json()
        sent = ack["directives"][0]["rate_variants_ppm"]
        if variants.in_sweep(datetime.now(UTC)):
            assert sent == [-40000, -20000, 0, 20000, 40000]
        else:
            assert sent == [20000]
        # twice a day the pinned rate is re-checked beside a 2 % grid, so a station that changes
        # rate is re-learned; a station whose rate is unknown gets the full 1 % sweep
        station = Station(slug="x", name="x", rate_ppm=25000)
        in_sweep = START.replace(hour=12, minute=5)
        assert variants.variants_for(station, in_sweep) == [-40000, -20000, 0, 20000, 25000, 40000]
        assert variants.variants_for(station, in_sweep + timedelta(minutes=10)) == [25000]
        assert (
            variants.variants_for(Station(slug="y", name="y"), in_sweep + timedelta(hours=1))
            == variants.FULL_SWEEP
        )
    finally:
        c.close()
