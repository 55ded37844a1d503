"""Ingest throughput into PostgreSQL, and upload bytes per station-day.

Throughput: a throwaway PostgreSQL cluster (tests/fixtures/postgres.py, or the server named
by SODAV_TEST_POSTGRES_URL), one real ``sodav-collector serve`` process (the CLI runs one
uvicorn process), and N simulated agents: concurrent httpx clients, each enrolled through
the API with its own token and station, posting UploadV1 batches exactly as the agent's
uploader builds them (JSON with base64 SFP1 blobs, gzip level 6). The segments are the
agent's real segments (shared.segmenter) of a 128 kbit/s MP3 of wesnoth tracks, one rate
variant, renumbered so every row is new (each keeps its start: its blobs carry it too).
Bodies are built before the clock starts; the clients share the 2 cores with the collector
and PostgreSQL.

Upload size: gzip'd bodies of real segments, batched as the uploader does in steady state
(one batch per ``batch_max_age_s`` = 60 s, i.e. 6 segments of one station), one rate
variant and the 9-variant sweep; per station-day = 1440 such bodies.

    .venv/bin/python bench/ingest/run.py [--agents 16] [--batches 10 100 500] [--seconds 20]
    .venv/bin/python bench/ingest/run.py --smoke    # seconds: 2 agents, 1 min of audio, 2 s runs
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.music import broadcast_mp3, real_segments
from shared.codec import encode
from shared.progress import Progress

SWEEP = [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000]
DAY_SEGMENTS = 8640


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def segment_dicts(segments: list[Any], station: str) -> list[dict[str, Any]]:
    """As the outbox stores them (edge_agent/buffer/outbox.py add_segment)."""
    return [
        {
            "station": station,
            "seq": i,
            "start": iso(s.start),
            "duration": round(s.duration, 6),
            "level_dbfs": None if s.level_dbfs is None else round(s.level_dbfs, 2),
            "fingerprints": [base64.b64encode(encode(fp)).decode() for fp in s.fingerprints],
        }
        for i, s in enumerate(segments)
    ]


def body(agent: str, segs: list[dict[str, Any]]) -> bytes:
    """As the uploader sends it (edge_agent/uploader.py post_json)."""
    doc = {
        "schema_version": 1,
        "agent": agent,
        "batch_id": uuid.uuid4().hex,
        "sent_at": iso(datetime.now(UTC)),
        "segments": segs,
        "events": [],
    }
    return gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), compresslevel=6)


def upload_size(segments_1: list[Any], segments_9: list[Any]) -> None:
    print("\nUpload size per station-day (gzip'd JSON bodies, one 60 s batch = 6 segments)")
    per_batch = 6
    rows = []
    for label, segs in (("1 rate variant", segments_1), ("9 rate variants (sweep)", segments_9)):
        dicts = segment_dicts(segs, "radio-1")
        sizes, raw = [], []
        for i in range(0, len(dicts) - per_batch + 1, per_batch):
            part = dicts[i : i + per_batch]
            sizes.append(len(body("agent-1", part)))
            raw.append(sum(len(b) for d in part for b in d["fingerprints"]))
        mean = sum(sizes) / len(sizes)
        day = mean * DAY_SEGMENTS / per_batch
        rows.append(day)
        print(
            f"  {label:<26} {mean:>7.0f} B per batch, blobs {sum(raw) / len(raw) / per_batch:>6.0f} B "
            f"base64 per segment -> {day / 1e6:.2f} MB per station-day"
        )
    one, sweep = rows
    from collector.fleet import variants as rates

    # the policy of collector/matching/rates.py: the pinned rate, plus the re-check grid for
    # SWEEP_FOR every SWEEP_EVERY (worst case: a pinned rate off the grid, 5 extra variants)
    per_variant = (sweep - one) / (len(SWEEP) - 1)
    extra = len(rates.recheck_variants(rates.RECHECK_GRID[0] + 5000)) - 1
    swept_min = (timedelta(days=1) / rates.SWEEP_EVERY) * rates.SWEEP_FOR.total_seconds() / 60
    policy = one + per_variant * extra * swept_min / 1440
    print(
        f"  pinned rate + re-check of {extra} variants for {swept_min:.0f} min a day "
        f"(collector/matching/rates.py): {policy / 1e6:.2f} MB"
    )
    print(f"  a whole day of sweep (rate not yet learned): {sweep / 1e6:.2f} MB")
    print(
        "  HTTP headers add ~0.4 kB per request and response pair: ~0.6 MB per day at one batch a minute "
        "(shared by all the stations of an agent)"
    )


def collector_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def blast(
    url: str, tokens: list[str], bodies: list[list[tuple[bytes, int]]], seconds: float
) -> tuple[int, int, float]:
    """Every agent posts its bodies one after the other; return (segments, requests, wall)."""
    sent = [0, 0]
    stop = time.monotonic() + seconds
    bar = Progress(f"posting for {seconds:g} s", round(seconds), " s")

    async def agent(i: int, client: httpx.AsyncClient) -> None:
        headers = {
            "Authorization": f"Bearer {tokens[i]}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        }
        for raw, n in bodies[i]:
            if time.monotonic() > stop:
                return
            r = await client.post(url + "/api/v1/uploads", content=raw, headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"upload refused: {r.status_code} {r.text[:500]}")
            ack = r.json()
            assert ack["accepted_segments"] == n, ack
            sent[0] += n
            sent[1] += 1
            bar.update(min(seconds, seconds - (stop - time.monotonic())))

    limits = httpx.Limits(max_connections=len(tokens) + 4)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        t0 = time.monotonic()
        await asyncio.gather(*(agent(i, client) for i in range(len(tokens))))
        wall = time.monotonic() - t0
    bar.done()
    return sent[0], sent[1], wall


def throughput(args: argparse.Namespace, segments_1: list[Any]) -> None:
    from collector.db.session import transaction
    from tests.fixtures.collector import Collector
    from tests.fixtures.postgres import throwaway_cluster

    print(f"\nIngest throughput: {args.agents} agents posting concurrently to one collector process")
    print(
        f"{'segments/batch':>14}{'requests':>10}{'segments':>10}{'wall s':>8}{'segments/s':>12}"
        f"{'collector CPU s':>17}{'segments/CPU s':>16}"
    )
    with throwaway_cluster() as base_url, tempfile.TemporaryDirectory(prefix="sodav-bench-ingest-") as tmp:
        import sqlalchemy as sa

        engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS sodav_bench_ingest"))
            conn.execute(sa.text("CREATE DATABASE sodav_bench_ingest"))
        engine.dispose()
        url = base_url.rsplit("/", 1)[0] + "/sodav_bench_ingest"
        col = Collector(url, Path(tmp))
        col.extra_env["SODAV_COLLECTOR_LOG_LEVEL"] = "WARNING"
        col.start(timeout=120)
        try:
            tokens, stations = [], []
            for i in range(args.agents):
                slug = f"radio-{i}"
                col.add_station(slug)
                tokens.append(col.add_agent(f"agent-{i}", [slug]))
                stations.append(slug)
            base = segment_dicts(segments_1, "x")
            seq = [0] * args.agents
            for size in args.batches:
                bodies: list[list[tuple[bytes, int]]] = []
                n_batches = max(2, int(args.seconds * 6000 / size / args.agents) + 2)
                bar = Progress(f"building {size}-segment bodies", args.agents, " agents")
                for i in range(args.agents):
                    bar.update(i)
                    mine = []
                    for _ in range(n_batches):
                        part = []
                        for _k in range(size):
                            d = dict(base[seq[i] % len(base)])
                            # a new seq, the segment's own start (its blobs carry it too)
                            d["station"], d["seq"] = stations[i], seq[i]
                            part.append(d)
                            seq[i] += 1
                        mine.append((body(f"agent-{i}", part), size))
                    bodies.append(mine)
                bar.done()
                assert col.proc is not None
                cpu0 = collector_cpu(col.proc.pid)
                spy = None
                if args.py_spy:  # profile the collector while it ingests
                    import subprocess

                    spy = subprocess.Popen(
                        [
                            str(Path(sys.executable).with_name("py-spy")),
                            "record",
                            "-p",
                            str(col.proc.pid),
                            "-r",
                            "100",
                            "-f",
                            "raw",
                            "-o",
                            f"{args.py_spy}.{size}.txt",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(1)
                n, reqs, wall = asyncio.run(blast(col.url, tokens, bodies, args.seconds))
                cpu = collector_cpu(col.proc.pid) - cpu0
                if spy is not None:
                    import signal

                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                print(f"{size:>14}{reqs:>10}{n:>10}{wall:>8.1f}{n / wall:>12.0f}{cpu:>17.1f}{n / cpu:>16.0f}")
            with transaction(col.tx) as s:
                stored = s.execute(sa.text("SELECT count(*) FROM segments")).scalar_one()
                fps = s.execute(sa.text("SELECT count(*) FROM segment_fingerprints")).scalar_one()
            print(f"rows in PostgreSQL: {stored} segments, {fps} fingerprints")
        finally:
            col.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=16)
    ap.add_argument("--batches", type=int, nargs="+", default=[10, 100, 500])
    ap.add_argument("--seconds", type=float, default=20.0, help="duration of each throughput run")
    ap.add_argument("--size-only", action="store_true")
    ap.add_argument("--py-spy", metavar="PREFIX", help="record a py-spy profile of the collector per run")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = ap.parse_args()
    minutes = 15.0
    if args.smoke:
        minutes, args.agents, args.batches, args.seconds = 1.0, 2, [10, 50], 2.0
    mp3 = broadcast_mp3(minutes)
    segments_1 = real_segments(mp3, [0])
    segments_9 = real_segments(mp3, SWEEP)
    upload_size(segments_1, segments_9)
    if not args.size_only:
        throughput(args, segments_1)


if __name__ == "__main__":
    main()
