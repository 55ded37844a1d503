"""Migrations 0013 and 0014 on a big database: how long PostgreSQL's tables are locked while
segments, events and plays (0013), then fingerprints and matches (0014) move into monthly
partitions, then what upkeep and retention take.

A throwaway PostgreSQL cluster (tests/fixtures/postgres.py, or the server named by
SODAV_TEST_POSTGRES_URL) is migrated to 0012 and seeded inside PostgreSQL
(``INSERT … SELECT generate_series``): ``--segments`` segments of 10 s spread evenly over the
last ``--months`` months on 50 stations, one fingerprint row per segment (a 1 kB blob), a match
for every third segment, a tenth as many events and a twentieth as many plays. Then it times,
in turn: ``alembic upgrade`` 0012 → 0013 (one transaction, the three tables locked
throughout), 0013 → 0014 (fingerprints and matches copied with their segment's start),
``partitions ensure``, and one ``retention run`` that drops the oldest month of all three.

    python -m bench.partitions.run                     # 1 M segments over 12 months
    python -m bench.partitions.run --segments 5000000
    python -m bench.partitions.run --smoke             # seconds: 10 000 segments
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import upgrade
from collector.retention import run as retention_run
from collector.settings import CollectorSettings
from collector.upkeep import ensure

STATIONS = 50


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def seed(url: str, segments: int, months: int) -> float:
    t0 = time.perf_counter()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    span = f"{months * 30} days"
    with engine.connect() as c:
        c.execute(text("SET session_replication_role = replica"))  # no FK triggers during the load
        c.execute(
            text(
                "INSERT INTO stations (id, slug, name, created_at) "
                "SELECT i, 'st' || i, 'Station ' || i, now() FROM generate_series(1, :n) i"
            ),
            {"n": STATIONS},
        )
        c.execute(text("INSERT INTO agents (id, name, created_at) VALUES (1, 'box1', now())"))
        c.execute(
            text(
                "INSERT INTO recordings (id, external_id, title, artist, duration, fingerprint, "
                "fingerprint_sha256, created_at, updated_at) "
                "SELECT i, 'REC-' || i, 'Title ' || i, 'Artist', 200, '\\x53465031'::bytea, "
                "md5(i::text) || md5(i::text), now(), now() FROM generate_series(1, 100) i"
            )
        )
        # the stations' segments one after another, each station's evenly over the span
        c.execute(
            text(
                "INSERT INTO segments (agent_id, station_id, seq, start, duration, level_dbfs, "
                "received_at, status) "
                "SELECT 1, 1 + i % :st, i / :st, now() - CAST(:span AS interval) "
                "+ CAST(:span AS interval) * ((i / :st)::float / (:n / :st)), 10, -14, now(), "
                "CASE WHEN i % 3 = 0 THEN 'matched' ELSE 'unmatched' END FROM generate_series(0, :n - 1) i"
            ),
            {"n": segments, "st": STATIONS, "span": span},
        )
        c.execute(
            text(
                "INSERT INTO segment_fingerprints (segment_id, rate_ppm, data) "
                "SELECT id, 0, decode(repeat(md5(id::text), 32), 'hex') FROM segments"
            )
        )
        c.execute(
            text(
                "INSERT INTO segment_matches (segment_id, recording_id, offset_s, value_start, rate_ppm, "
                "score) SELECT id, 1 + id % 100, 12.5, start, 0, 0.8 FROM segments WHERE status = 'matched'"
            )
        )
        c.execute(
            text(
                "INSERT INTO events (agent_id, station_id, kind, seq, start, received_at) "
                "SELECT 1, station_id, 'title', seq, start, now() FROM segments WHERE id % 10 = 0"
            )
        )
        c.execute(
            text(
                'INSERT INTO plays (station_id, recording_id, start, "end", duration, offset_start, '
                "offset_end, confidence, matched_fraction, rate_ppm, status, created_at, updated_at) "
                "SELECT station_id, 1 + id % 100, start, start + interval '3 minutes', 180, 0, 180, "
                "0.9, 0.8, 0, 'final', now(), now() FROM segments WHERE id % 20 = 0"
            )
        )
        c.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - t0


def lookup_ms(url: str, bounded: bool = False, runs: int = 30) -> float:
    """Median time to read 500 segments' fingerprints by segment id, as play assembly does
    (collector.plays.repository.fingerprint_blobs): one station's segments in the middle of the
    span; ``bounded``: with their first and last start too, which lets PostgreSQL skip the
    other months' partitions."""
    engine = create_engine(url)
    with engine.connect() as c:
        ids = list(
            c.scalars(
                text(
                    "SELECT id FROM segments WHERE station_id = 1 "
                    "AND id >= (SELECT max(id) / 2 FROM segments) ORDER BY id LIMIT 500"
                )
            )
        )
        sql = "SELECT segment_id, rate_ppm, data FROM segment_fingerprints WHERE segment_id = ANY(:ids)"
        params: dict[str, object] = {"ids": ids}
        if bounded:
            sql += " AND segment_start BETWEEN :lo AND :hi"
            span = text("SELECT min(start), max(start) FROM segments WHERE id = ANY(:ids)")
            lo, hi = c.execute(span, params).one()
            params |= {"lo": lo, "hi": hi}
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = c.execute(text(sql), params).all()
            times.append(time.perf_counter() - t0)
        assert len(rows) == len(ids)
    engine.dispose()
    return round(sorted(times)[len(times) // 2] * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.segments = 10_000
    with ExitStack() as stack:
        from tests.fixtures.postgres import throwaway_cluster

        server = stack.enter_context(throwaway_cluster())
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text("DROP DATABASE IF EXISTS bench_partitions"))
            c.execute(text("CREATE DATABASE bench_partitions"))
        admin.dispose()
        url = make_url(server).set(database="bench_partitions").render_as_string(hide_password=False)
        upgrade(url, "0012")
        log(f"seeding {args.segments:,} segments over {args.months} months")
        seed_s = seed(url, args.segments, args.months)
        log("migrating 0012 -> 0013")
        t0 = time.perf_counter()
        upgrade(url, "0013")
        migrate_s = time.perf_counter() - t0
        lookup_0013_ms = lookup_ms(url)
        log("migrating 0013 -> 0014")
        t0 = time.perf_counter()
        upgrade(url)
        migrate_0014_s = time.perf_counter() - t0
        lookup_0014_ms = lookup_ms(url)
        lookup_bounded_ms = lookup_ms(url, bounded=True)
        settings = CollectorSettings(
            database_url=url,
            retention={"segments_months": args.months - 1},
            matching={"rematch_days": 30},
        )
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        t0 = time.perf_counter()
        ensure(factory, settings)
        ensure_s = time.perf_counter() - t0
        log("retention: the oldest month")
        t0 = time.perf_counter()
        removed = retention_run(factory, settings)
        retention_s = time.perf_counter() - t0
        with engine.connect() as c:
            counts = {
                t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                for t in ("segments", "segment_fingerprints", "segment_matches", "events", "plays")
            }
            parts = c.execute(
                text("SELECT count(*) FROM pg_inherits JOIN pg_class ON oid = inhrelid WHERE relkind = 'r'")
            ).scalar_one()
        engine.dispose()
    result = {
        "segments": args.segments,
        "months": args.months,
        "seed_s": round(seed_s, 1),
        "migrate_s": round(migrate_s, 2),
        "migrate_0014_s": round(migrate_0014_s, 2),
        "fingerprints_by_id_ms": {
            "0013": lookup_0013_ms,
            "0014": lookup_0014_ms,
            "0014 bounded by start": lookup_bounded_ms,
        },
        "ensure_s": round(ensure_s, 3),
        "retention_s": round(retention_s, 2),
        "retention_removed_segments": sum(r.segments for r in removed if r.done),
        "partitions": parts,
        "left": counts,
        "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
