"""Simulated agents: one asyncio task per agent (one station each), posting what the real agent
posts, when it posts it.

Each agent's station airs the pool's programme from its own point (bench/load/pool.py), in real
time: segment ``k`` covers ``[t0 + 10·k, t0 + 10·(k+1))`` and is sent once it has ended. An
agent uploads the segments it has every ``batch_max_age_s`` (60 s, edge_agent/config.py: in
steady state the batch that leaves is the minute's 6 segments) and heartbeats every
``heartbeat_interval_s`` (60 s), each at its own phase in the minute, as boxes switched on at
different times do. Bodies are what the uploader sends (edge_agent/client.py: gzip'd JSON,
UploadV1 and HeartbeatV1); a timeout, a network error, a 429 or a 5xx is retried with the
same body after a pause (edge_agent/uploader.py), any other refusal is counted and dropped.
Excerpt requests in the acknowledgements are answered ``gone: disabled``, as an agent with
``buffer.excerpt_hours = 0`` does.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

import shared
from bench.load.pool import Pool
from shared.schemas import HeartbeatV1

SEGMENT_S = 10.0
UPLOAD_EVERY_S = 60.0  # edge_agent/config.py batch_max_age_s
HEARTBEAT_EVERY_S = 60.0  # edge_agent/config.py heartbeat_interval_s
RETRY_S = 5.0


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Tally:
    """What the agents sent and what came back."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (kind, status)
    failures: Counter[str] = field(default_factory=Counter)  # transport errors, by kind
    latency: dict[str, list[float]] = field(default_factory=lambda: {"upload": [], "heartbeat": []})
    segments_sent: int = 0  # distinct segments (a retried batch counts once)
    accepted: int = 0  # accepted_segments of the acknowledgements
    duplicates: int = 0  # duplicate_segments (a retry of a batch that had been stored)
    dropped: int = 0  # segments of a batch refused with a 4xx other than 429
    retries: int = 0
    excerpts_answered: int = 0
    sent_by_station: dict[str, int] = field(default_factory=dict)

    def server_errors(self) -> int:
        return sum(n for (_kind, status), n in self.statuses.items() if status >= 500)


@dataclass(frozen=True)
class Agent:
    name: str
    station: str
    token: str
    offset: int  # where in the pool's programme its station starts
    phase: float  # seconds into the minute of its uploads
    hb_phase: float


def heartbeat_body(agent: Agent, since: datetime, last_upload: datetime | None) -> dict[str, Any]:
    """A heartbeat of an agent whose source is fine and whose outbox is empty."""
    return {
        "schema_version": 1,
        "agent": agent.name,
        "sent_at": iso(datetime.now(UTC)),
        "agent_version": shared.__version__,
        "queue_depth": 0,
        "oldest_queued": None,
        "last_upload": None if last_upload is None else iso(last_upload),
        "clock_offset_ms": 3.0,
        "dropped_excerpts": 0,
        "dropped_fingerprints": 0,
        "sources": [
            {
                "station": agent.station,
                "state": "ok",
                "since": iso(since),
                "level_dbfs": -14.5,
                "codec": "mp3",
                "sample_rate": 44100,
                "icy_title": "Artiste - Titre",
            }
        ],
    }


class Simulation:
    def __init__(self, url: str, pool: Pool, agents: list[Agent], seconds: float) -> None:
        self.url, self.pool, self.agents, self.seconds = url, pool, agents, seconds
        self.tally = Tally()
        # every station's audio began a minute before the run: its first batch is a full one
        self.audio_t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=UPLOAD_EVERY_S)
        HeartbeatV1.model_validate(heartbeat_body(agents[0], self.audio_t0, None))  # real-shaped

    async def run(self, connections: int = 200) -> Tally:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=self.url, timeout=30, limits=limits) as client:
            start = time.monotonic()
            await asyncio.gather(*(self._agent(a, client, start) for a in self.agents))
        return self.tally

    async def _post(self, client: httpx.AsyncClient, kind: str, path: str, agent: Agent, raw: bytes) -> Any:
        """POST ``raw`` until it is answered (retried as the agent retries); the JSON of a 200,
        or None for a refusal."""
        headers = {
            "Authorization": f"Bearer {agent.token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
            "User-Agent": "sodav-agent",
        }
        while True:
            t = time.monotonic()
            try:
                r = await client.post(path, content=raw, headers=headers)
            except httpx.HTTPError as exc:
                self.tally.failures[f"{kind} {type(exc).__name__}"] += 1
            else:
                self.tally.statuses[(kind, r.status_code)] += 1
                if r.status_code == 200:
                    self.tally.latency.setdefault(kind, []).append(time.monotonic() - t)
                    return r.json()
                if r.status_code != 429 and r.status_code < 500:
                    return None
            self.tally.retries += 1
            await asyncio.sleep(RETRY_S)

    async def _agent(self, agent: Agent, client: httpx.AsyncClient, start: float) -> None:
        stop = start + self.seconds
        next_up, next_hb = start + agent.phase, start + agent.hb_phase
        seq, last_upload, answered = 0, None, set()
        while True:
            due = min(next_up, next_hb)
            if due >= stop or time.monotonic() >= stop:  # a late agent stops at the end too
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = datetime.now(UTC)
            if due == next_hb:
                next_hb += HEARTBEAT_EVERY_S
                body = heartbeat_body(agent, self.audio_t0, last_upload)
                ack = await self._post(client, "heartbeat", "/api/v1/heartbeats", agent, _gzip(body))
            else:
                next_up += UPLOAD_EVERY_S
                part = []
                while self.audio_t0 + timedelta(seconds=SEGMENT_S * (seq + 1)) <= now:
                    begin = self.audio_t0 + timedelta(seconds=SEGMENT_S * seq)
                    part.append(self.pool.body_segment(agent.offset + seq, agent.station, seq, begin))
                    seq += 1
                if not part:
                    continue
                body = {
                    "schema_version": 1,
                    "agent": agent.name,
                    "batch_id": uuid.uuid4().hex,
                    "sent_at": iso(now),
                    "segments": part,
                    "events": [],
                }
                self.tally.segments_sent += len(part)
                self.tally.sent_by_station[agent.station] = seq
                ack = await self._post(client, "upload", "/api/v1/uploads", agent, _gzip(body))
                if ack is None:
                    self.tally.dropped += len(part)
                else:
                    last_upload = now
                    self.tally.accepted += ack["accepted_segments"]
                    self.tally.duplicates += ack["duplicate_segments"]
            for request in (ack or {}).get("excerpts", []):
                if request["id"] not in answered:
                    answered.add(request["id"])
                    await self._answer_excerpt(client, agent, request)

    async def _answer_excerpt(self, client: httpx.AsyncClient, agent: Agent, request: dict[str, Any]) -> None:
        body = {
            "schema_version": 1,
            "agent": agent.name,
            "request": request["id"],
            "station": request["station"],
            "gone": "disabled",
        }
        if await self._post(client, "excerpt", "/api/v1/excerpts", agent, _gzip(body)) is not None:
            self.tally.excerpts_answered += 1


def _gzip(body: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(body, separators=(",", ":")).encode(), compresslevel=6)


def spread(n: int, pool_size: int, seed: int = 1) -> list[tuple[int, float, float]]:
    """(programme offset, upload phase, heartbeat phase) of ``n`` agents: spread evenly over the
    programme and the minute, in a shuffled order (boxes switched on at different times)."""
    rng = random.Random(seed)
    out = [
        (i * pool_size // n, (i + 0.5) * UPLOAD_EVERY_S / n, rng.uniform(0, HEARTBEAT_EVERY_S))
        for i in range(n)
    ]
    offsets = [o for o, _, _ in out]
    rng.shuffle(offsets)
    return [(offsets[i], out[i][1], out[i][2]) for i in range(n)]
