"""Several stations write into one outbox at once: each segment stored once, none lost."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge_agent.buffer.outbox import Outbox
from edge_agent.config import AgentSettings
from edge_agent.pipeline import Pipeline
from shared.pcm import as_pcm
from tests.support.audio import excerpt, pcm11k, track

STATIONS = ["rfm", "zik", "rts", "sud"]


def test_concurrent_stations_store_every_segment_exactly_once(tmp_path: Path) -> None:
    pcm = pcm11k(excerpt(track(3), tmp_path / "a.wav", 0, 40, codec="wav"))
    settings = AgentSettings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "fingerprint": {"segment_seconds": 2},
            "buffer": {"excerpt_hours": 0},
            "stations": [
                {"slug": s, "url": f"http://127.0.0.1:9/{s}", "rate_variants_ppm": [0]} for s in STATIONS
            ],
        }
    )
    ob = Outbox(settings.outbox_path)
    pipe = Pipeline(settings, ob, None)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    barrier = threading.Barrier(len(STATIONS))
    blocks = [as_pcm(chunk) for chunk in np.array_split(pcm, 400)]  # as the capture hands them

    def capture(station: str) -> None:  # what each station's capture thread does, at full speed
        pipe.run_started(station, 1, start)
        barrier.wait()
        for chunk in blocks:
            pipe.audio(station, 1, chunk)
        pipe.run_ended(station, 1)

    threads = [threading.Thread(target=capture, args=(s,)) for s in STATIONS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ob.close()
    with sqlite3.connect(settings.outbox_path) as conn:
        rows = [(s, json.loads(p)["start"]) for s, p in conn.execute("SELECT station, payload FROM segments")]
    per_station = Counter(s for s, _ in rows)
    starts = Counter(rows)
    assert [k for k, n in starts.items() if n > 1] == [], "a segment was stored twice"
    counts = set(per_station.values())
    assert len(counts) == 1 and set(per_station) == set(STATIONS), per_station  # none lost
    assert pipe.pending == []
