"""``POST /api/v1/excerpts`` on a real collector, on both databases: an agent's answer to an
excerpt request is stored once, from the agent's responder itself; the wrong ones are refused.

The acknowledgements do not carry the requests yet (the next version wires
:func:`collector.ingest.excerpts.pending_for` into them): here the requests the ack would
carry are handed to the agent's :class:`ExcerptResponder`, which cuts and uploads for real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from collector.db.session import transaction
from collector.fleet.models import Agent, Station
from collector.ingest.excerpts import ExcerptRequest, pending_for, request_excerpt
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from edge_agent.client import CollectorClient
from edge_agent.config import AgentSettings
from edge_agent.excerpt_requests import ExcerptResponder
from shared.pcm import as_pcm
from tests.fixtures.collector import Collector
from tests.support.audio import excerpt, pcm11k, track

RATE = 11025


def _ask(col: Collector, slug: str, start: datetime, seconds: float) -> str:
    with transaction(col.tx) as s:
        station = s.scalars(select(Station).where(Station.slug == slug)).one()
        return request_excerpt(s, station, start, start + timedelta(seconds=seconds), "test").wire_id


def _pending(col: Collector, agent: str) -> list:  # type: ignore[type-arg]
    with transaction(col.tx) as s:
        return pending_for(s, s.scalars(select(Agent).where(Agent.name == agent)).one())


def test_the_agents_responder_answers_a_real_collector(collector: Collector, tmp_path: Path) -> None:
    collector.add_station("rfm")
    collector.add_station("zik")
    token = collector.add_agent("box", ["rfm"])
    other = collector.add_agent("box2", ["zik"])
    t0 = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
    # what the agent kept: 90 s of rfm, written minute by minute as the capture does
    settings = AgentSettings.model_validate(
        {"data_dir": str(tmp_path / "agent"), "name": "box", "collector": {"url": collector.url}}
    )
    outbox = Outbox(settings.outbox_path)
    store = Excerpts(tmp_path / "agent" / "excerpts", outbox, RATE, 24, 48)
    pcm = pcm11k(excerpt(track(1), tmp_path / "a.wav", 10, 90, codec="wav"))
    for i in range(0, pcm.size, RATE // 4):
        store.add("rfm", t0 + timedelta(seconds=i / RATE), as_pcm(pcm[i : i + RATE // 4]))
    store.flush("rfm")

    kept = _ask(collector, "rfm", t0 + timedelta(seconds=30), 20)
    old = _ask(collector, "rfm", datetime.now(UTC) - timedelta(hours=50), 20)
    theirs = _ask(collector, "zik", t0, 10)
    asked = _pending(collector, "box")
    assert [r.id for r in asked] == [kept, old]  # only its own stations', as its ack will carry
    client = CollectorClient(settings, token)
    try:
        responder = ExcerptResponder(client, store, 48, tmp_path)
        responder.submit(asked)
        assert responder.answer_due() == 2
        assert _pending(collector, "box") == []
        # the same answer again (a retry after a lost ack): accepted, not stored twice
        body = {
            "agent": "box",
            "request": kept,
            "station": "rfm",
            "gone": "not_captured",
        }
        again = httpx.post(
            f"{collector.url}/api/v1/excerpts", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 200 and again.json() == {"request": kept, "stored": False}
        for request, station, status, code in (
            ("x999999", "rfm", 404, 12),  # unknown: the agent drops it
            (theirs, "zik", 403, 7),  # another agent's station
            (theirs, "rfm", 403, 7),
        ):
            resp = httpx.post(
                f"{collector.url}/api/v1/excerpts",
                json={**body, "request": request, "station": station},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert (resp.status_code, resp.json()["code"]) == (status, code), resp.text
        bad = httpx.post(
            f"{collector.url}/api/v1/excerpts",
            json={"agent": "box", "request": kept, "station": "rfm"},  # neither audio nor gone
            headers={"Authorization": f"Bearer {other}"},
        )
        assert bad.status_code == 422
    finally:
        client.close()
        outbox.close()
    with transaction(collector.tx) as s:
        rows = {r.wire_id: r for r in s.scalars(select(ExcerptRequest))}
    stored, gone = rows[kept], rows[old]
    assert (stored.state, gone.state, rows[theirs].state) == ("stored", "gone", "pending")
    assert stored.audio is not None and stored.audio[:4] == b"OggS"
    assert stored.audio_start == t0 + timedelta(seconds=30) and stored.audio_end == t0 + timedelta(seconds=50)
    assert gone.gone == "expired" and gone.kept_from == t0
    audio = tmp_path / "stored.ogg"
    audio.write_bytes(stored.audio)
    assert abs(pcm11k(audio).size / RATE - 20) < 0.2
    assert np.abs(pcm11k(audio).astype(np.int32)).mean() > 100  # the song, not silence
