"""Load simulation: N simulated stations against the collector as ops scale it out on one machine.

    .venv/bin/python -m bench.load.run --stations 1000 --minutes 10 [--out DIR]
    .venv/bin/python -m bench.load.run --smoke     # 4 stations for 60 s, about 2 minutes in all

The system (bench/load/system.py): a throwaway PostgreSQL, redis-server, two ``sodav-collector
serve`` behind the ops guide's nginx example, two ``sodav-collector worker``; the catalog songs
of the pool imported with ``sodav-collector catalog import``. N stations and agents (one each)
are created and enrolled through ``POST /api/v1/enroll``; then the agents (bench/load/agents.py,
one asyncio process) upload and heartbeat for the given minutes, at the real agent's rates.

What is accelerated, and why it is honest: nothing the collector sees. The rates are the
agent's own (a batch and a heartbeat per agent per minute, 6 segments of 10 s a batch), the
segment times are the wall clock's, and the fingerprints are the agent's segments of real audio
(bench/load/pool.py: catalog songs, off-catalog songs, DJ talk). What is skipped is the agent's
side, which runs on its own box and is measured apart (docs/benchmarks.md, edge agent): audio
is fingerprinted once, before the clock starts, and each station airs that programme from its
own point, its blobs stamped with the segment's time (the start field of the SFP1 header).
Only one rate variant is sent (a station whose rate is learned; the re-check sweeps add a few
minutes of 5 more variants a day: bench/ingest/run.py's upload sizes).

Measured, over the run (after enrollment): requests by status (5xx counted, never retried
away unseen); segments sent, acknowledged and stored (per station, in PostgreSQL at the end:
nothing lost, nothing twice); matching lag, received_at to the segment leaving the queue
(matched or unmatched), by polling the segments table each second (an upper bound by up to
~1 s); CPU seconds of each part from /proc (bench/load/system.py), per 100 stations, and the
whole machine's busy time, so that what other programs took is on the page too. Results: a
markdown table on stdout, and ``load.json`` in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.load import pool as pools
from bench.load.agents import Agent, Simulation, spread
from bench.load.system import System, machine_busy, running

LAG_TARGET_S = 30.0
SEGMENTS_PER_STATION_S = 0.1  # a 10 s segment per station per second of airtime


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def enroll(system: System, n: int, pool_size: int) -> list[Agent]:
    """N stations and agents, one station each: created in one transaction (what ``sodav-collector
    stations add`` and ``agents add`` do), enrolled through the API as boxes do."""
    from collector.db.session import transaction
    from collector.fleet import service

    codes = []
    with transaction(system.collectors[0].tx) as s:
        for i in range(n):
            slug = f"radio-{i:04d}"
            service.create_station(s, slug, f"Radio {i}")
            _agent, code = service.create_agent(s, f"box-{i:04d}", [slug])
            codes.append((f"box-{i:04d}", slug, code))

    async def exchange() -> list[str]:
        gate = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=system.url, timeout=60) as client:

            async def one(code: str) -> str:
                async with gate:
                    r = await client.post("/api/v1/enroll", json={"code": code})
                    r.raise_for_status()
                    return str(r.json()["token"])

            return await asyncio.gather(*(one(c) for _, _, c in codes))

    tokens = asyncio.run(exchange())
    return [
        Agent(name, slug, token, offset, phase, hb)
        for (name, slug, _), token, (offset, phase, hb) in zip(
            codes, tokens, spread(n, pool_size), strict=True
        )
    ]


class LagWatch(threading.Thread):
    """Polls the segments table each second: a segment's lag is from its received_at to the
    first poll that sees it matched, unmatched or quarantined."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(database_url, pool_size=1)
        self.lags: list[tuple[float, float]] = []  # (seconds since the run began, lag s)
        self.stop = threading.Event()
        self.began = time.monotonic()

    def run(self) -> None:
        # cheap whatever the lag: each poll reads the segments that arrived since the last one
        # (id, received_at, whether already done) and the ids still queued (an index-only
        # scan); a segment that was waiting and is queued no more finished in between. (Reading
        # every finished segment past the oldest waiting one, as this did first, cost the
        # simulator 0.4 core at a lag of 200 s, taken from the parts it measures.)
        top = 0
        waiting: dict[int, datetime] = {}  # id -> received_at, of the segments still queued
        with self.engine.connect() as conn:
            while not self.stop.wait(1.0):
                arrived = conn.execute(
                    sa.text(
                        "SELECT id, received_at, status NOT IN ('new', 'claimed') FROM segments "
                        "WHERE id > :top ORDER BY id"
                    ),
                    {"top": top},
                ).all()
                queued = set(
                    conn.execute(
                        sa.text("SELECT id FROM segments WHERE status IN ('new', 'claimed')")
                    ).scalars()
                )
                conn.commit()
                now, at = datetime.now(UTC), time.monotonic() - self.began
                done: list[datetime] = []
                for seg_id, received, finished in arrived:
                    received = received if received.tzinfo else received.replace(tzinfo=UTC)
                    if finished or seg_id not in queued:
                        done.append(received)
                    else:
                        waiting[seg_id] = received
                    top = max(top, seg_id)
                for seg_id in [i for i in waiting if i not in queued]:
                    done.append(waiting.pop(seg_id))
                self.lags.extend((at, (now - received).total_seconds()) for received in done)
        self.engine.dispose()

    def queued(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM segments WHERE status IN ('new', 'claimed')")
                ).scalar()
                or 0
            )


def stored(database_url: str) -> dict[str, Any]:
    """What PostgreSQL holds at the end, per station and in all."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        per_station = {
            slug: (count, distinct, lo, hi)
            for slug, count, distinct, lo, hi in conn.execute(
                sa.text(
                    "SELECT st.slug, count(*), count(DISTINCT s.seq), min(s.seq), max(s.seq) "
                    "FROM segments s JOIN stations st ON st.id = s.station_id GROUP BY st.slug"
                )
            ).all()
        }
        statuses: dict[str, int] = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM segments GROUP BY status")).all()
        )
        fingerprints = conn.execute(sa.text("SELECT count(*) FROM segment_fingerprints")).scalar()
        plays: dict[str, int] = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM plays GROUP BY status")).all()
        )
        heartbeats = conn.execute(sa.text("SELECT count(*) FROM heartbeats")).scalar()
    engine.dispose()
    return {
        "per_station": per_station,
        "statuses": statuses,
        "fingerprints": fingerprints,
        "plays": plays,
        "heartbeats": heartbeats,
    }


def own_cpu() -> float:
    """This process's CPU seconds (its threads; not its children, the parts measured apart)."""
    t = os.times()
    return t.user + t.system


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def simulate(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    songs = 2 if args.smoke else 8
    log(f"building the pool: {songs} catalog songs, off-catalog songs and talk (cached)")
    pool = pools.build(songs)
    kinds = {k: sum(s.kind == k for s in pool.segments) for k in ("catalog", "offcat", "talk")}
    log(f"pool: {len(pool.segments)} segments {kinds}")
    with (
        tempfile.TemporaryDirectory(prefix="sodav-bench-load-") as tmp,
        running(Path(tmp), pool.catalog_csv, args.stations) as system,
    ):
        t = time.monotonic()
        agents = enroll(system, args.stations, len(pool.segments))
        enroll_s = time.monotonic() - t
        log(f"{args.stations} stations enrolled in {enroll_s:.0f} s; simulating {args.minutes:g} min")
        watch = LagWatch(system.database_url)
        sim = Simulation(system.url, pool, agents, args.minutes * 60)
        cpu0, me0, busy0, t0 = system.cpu(), own_cpu(), machine_busy(), time.monotonic()
        watch.start()
        tally = asyncio.run(sim.run())
        wall = time.monotonic() - t0
        cpu1, me1, busy1 = system.cpu(), own_cpu(), machine_busy()
        log(f"agents stopped after {wall:.0f} s; waiting for the queue to empty")
        t = time.monotonic()
        while watch.queued() and time.monotonic() - t < args.drain:
            time.sleep(1)
        drain_s = time.monotonic() - t
        time.sleep(1.5)  # the watcher's last poll
        watch.stop.set()
        watch.join(10)
        db = stored(system.database_url)
        for c in system.collectors:
            errors = [line for line in c.log().splitlines() if "Traceback" in line or " ERROR " in line]
            if errors:
                log(f"{c.workdir.name}: {len(errors)} error lines in its log, e.g. {errors[0][:300]}")
        (out / "logs").mkdir(parents=True, exist_ok=True)
        for p in Path(tmp).glob("*/*.log"):
            (out / "logs" / f"{p.parent.name}-{p.name}").write_bytes(p.read_bytes())

    cpu = {k: cpu1[k] - cpu0[k] for k in cpu0}
    cpu["simulator (agents + lag watch)"] = me1 - me0
    busy = busy1[0] - busy0[0]
    lost, doubled = [], []
    for a in agents:
        sent = tally.sent_by_station.get(a.station, 0)
        count, distinct, lo, hi = db["per_station"].get(a.station, (0, 0, None, None))
        if count != distinct:
            doubled.append(a.station)
        if distinct != sent or (sent and (lo, hi) != (0, sent - 1)):
            lost.append(a.station)
    lags = [lag for _at, lag in watch.lags]
    steady = [lag for at, lag in watch.lags if at >= 120]  # past the first two minutes
    return {
        "stations": args.stations,
        "minutes": args.minutes,
        "wall_s": round(wall, 1),
        "enroll_s": round(enroll_s, 1),
        "pool": {"segments": len(pool.segments), **kinds, "catalog_songs": pool.catalog_songs},
        "requests": {f"{kind} {status}": n for (kind, status), n in sorted(tally.statuses.items())},
        "transport_failures": dict(tally.failures),
        "server_errors": tally.server_errors(),
        "retries": tally.retries,
        "latency_ms": {
            kind: {
                "p50": round(np.percentile(v, 50) * 1000),
                "p99": round(np.percentile(v, 99) * 1000),
                "n": len(v),
            }
            for kind, v in tally.latency.items()
            if v
        },
        "segments": {
            "sent": tally.segments_sent,
            "acknowledged": tally.accepted,
            "acknowledged_duplicates": tally.duplicates,
            "refused": tally.dropped,
            "stored": sum(v[1] for v in db["per_station"].values()),
            "stored_rows": sum(v[0] for v in db["per_station"].values()),
            "fingerprints": db["fingerprints"],
            "by_status": db["statuses"],
            "stations_lost": len(lost),
            "stations_doubled": len(doubled),
        },
        "plays": db["plays"],
        "heartbeats": {"sent_ok": tally.statuses.get(("heartbeat", 200), 0), "stored": db["heartbeats"]},
        "excerpts_answered": tally.excerpts_answered,
        "lag_s": {
            "p50": pct(lags, 50),
            "p99": pct(lags, 99),
            "max": pct(lags, 100),
            "n": len(lags),
            "steady_p99": pct(steady, 99),
            "target_p99": LAG_TARGET_S,
        },
        "drain_s": round(drain_s, 1),
        "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
        "window": {"received": tally.accepted, "processed": sum(1 for at, _ in watch.lags if at <= wall)},
        "machine": {
            "cores": os.cpu_count(),
            "busy_s": round(busy, 1),
            "others_s": round(busy - sum(cpu.values()), 1),
        },
    }


def counts(by: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(by.items()))


def cpu_per_segment(r: dict[str, Any]) -> dict[str, float]:
    """CPU seconds per segment of each part: the workers' per segment they finished, the other
    parts' per segment received, during the run. A system that falls behind is still sized by
    the work it did: N stations need N × 0.1 segments/s of each."""
    window = r["window"]
    out = {
        part: secs / max(1, window["processed"] if part.startswith("workers") else window["received"])
        for part, secs in r["cpu_s"].items()
    }
    out["all parts"] = sum(out.values())
    return out


def table(r: dict[str, Any]) -> str:
    n, wall = r["stations"], r["wall_s"]
    seg = r["segments"]
    lines = [
        f"{n} stations, {r['minutes']:g} min ({wall:.0f} s), two serve behind nginx, two workers, "
        f"PostgreSQL, Redis; {r['machine']['cores']} cores",
        "",
        "| part | CPU s | cores busy | CPU ms per segment | cores per 100 stations | "
        "cores for 10,000 stations |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    per_segment = cpu_per_segment(r)
    for part, secs in [*r["cpu_s"].items(), ("all parts", sum(r["cpu_s"].values()))]:
        ms = per_segment[part] * 1000
        per_station = ms / 1000 * SEGMENTS_PER_STATION_S  # cores per station
        lines.append(
            f"| {part} | {secs:.1f} | {secs / wall:.2f} | {ms:.2f} | {per_station * 100:.3f} "
            f"| {per_station * 10000:.2f} |"
        )
    others = r["machine"]["others_s"]
    lines += [
        f"| (other programs on the machine) | {others:.1f} | {others / wall:.2f} | | |",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| requests | {', '.join(f'{k}: {v}' for k, v in r['requests'].items())} |",
        f"| server errors (5xx) | {r['server_errors']} |",
        f"| transport failures, retries | {sum(r['transport_failures'].values())}, {r['retries']} |",
        f"| segments received per second (the agents' rate: {n * SEGMENTS_PER_STATION_S:g}) | "
        f"{r['window']['received'] / wall:.1f} |",
        f"| segments matched or unmatched per second, during the run | "
        f"{r['window']['processed'] / wall:.1f} |",
        f"| segments sent / acknowledged / stored | {seg['sent']} / {seg['acknowledged']} / "
        f"{seg['stored']} |",
        f"| stations with a segment lost / doubled | {seg['stations_lost']} / {seg['stations_doubled']} |",
        f"| segments by status at the end | {counts(seg['by_status'])} |",
        f"| plays | {counts(r['plays']) or 'none'} |",
        f"| matching lag p50 / p99 / max | {r['lag_s']['p50']} / {r['lag_s']['p99']} / {r['lag_s']['max']} s "
        f"(p99 after the first 2 min: {r['lag_s']['steady_p99']} s; target p99 ≤ {LAG_TARGET_S:g} s) |",
        f"| queue emptied after the agents stopped | {r['drain_s']} s |",
    ]
    for kind, lat in r["latency_ms"].items():
        lines.append(f"| {kind} latency p50 / p99 | {lat['p50']} / {lat['p99']} ms (n={lat['n']}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load.run", description=__doc__.split("\n")[0])
    ap.add_argument("--stations", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--drain", type=float, default=300.0, help="seconds to wait for the queue at the end")
    ap.add_argument("--out", type=Path, default=Path("bench-load"))
    ap.add_argument("--smoke", action="store_true", help="4 stations for 60 s: checks that it runs")
    args = ap.parse_args(argv)
    if args.smoke:
        args.stations, args.minutes, args.drain = 4, 1.0, 60.0
    args.out.mkdir(parents=True, exist_ok=True)
    result = simulate(args, args.out)
    (args.out / "load.json").write_text(json.dumps(result, indent=2))
    print(table(result))
    ok = (
        result["server_errors"] == 0
        and result["segments"]["stations_lost"] == 0
        and result["segments"]["stations_doubled"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
