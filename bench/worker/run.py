"""The matching worker's CPU per segment, live stations over simulated hours, in one process.

    .venv/bin/python -m bench.worker.run --stations 20 --minutes 60 [--database-url URL] [--out DIR]
    .venv/bin/python -m bench.worker.run --smoke     # 2 stations, 8 minutes of airtime, ~30 s

The load simulation (bench/load) measures the whole system at the wall clock's pace, so ten
minutes of it show ten minutes of a station's life: a worker's cost per segment grows while
each station's open plays and the audio it reassembles with them build up, and settles after
about half an hour. This benchmark runs the worker's own cycle (:func:`collector.worker.run_once`,
then :func:`collector.worker.close_quiet_plays`, as the worker's loop does) on the load
simulation's programme (bench/load/pool.py: catalog songs, off-catalog songs, DJ talk), as if
each station's agent uploaded its minute of six segments, minute after minute, with no waiting:
``--minutes`` of airtime in however long the worker takes. The stations air the programme from
different points, their segments stamped with times that end now.

Measured: the process's CPU seconds in the cycles and in closing quiet plays, per segment, for
each ten minutes of airtime (SQLite runs in the process, so its work is counted; with
``--database-url`` of a PostgreSQL database only the worker's side is). The plays it assembled
are written to ``plays.csv`` with a digest, so that two versions of the worker can be shown to
assemble the very same plays.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.load import pool as pools
from collector.catalog.models import Recording
from collector.catalog.service import import_csv
from collector.db.session import open_database
from collector.fleet.service import create_station, tokenless_agent
from collector.ingest.models import Segment, SegmentFingerprint
from collector.plays.models import Play
from collector.settings import CollectorSettings
from collector.worker import close_quiet_plays, run_once

SEGMENTS_PER_MINUTE = 6


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def simulate(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    pool = pools.build(args.songs)
    url = args.database_url or f"sqlite:///{out / 'worker.db'}"
    settings = CollectorSettings(database_url=url, report_dir=out / "reports")
    seg_s = pool.segments[0].duration
    origin = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=args.minutes)
    with open_database(settings, migrate=True) as db:
        with db.transaction() as session:
            report = import_csv(session, pool.catalog_csv)
            log(f"catalog: {report.added} songs imported")
            stations = []
            for n in range(args.stations):
                station = create_station(session, f"bench-{n:03d}")
                stations.append((station.id, tokenless_agent(session, "bench-worker", station).id))
        phase = [n * len(pool.segments) // max(1, args.stations) for n in range(args.stations)]
        catalog = None
        cycles = closing = 0.0
        periods: list[dict[str, float]] = []
        done_total = 0
        period_start = (0.0, 0.0, 0)
        for minute in range(args.minutes):
            with db.transaction() as session:
                for n, (station_id, agent_id) in enumerate(stations):
                    for k in range(SEGMENTS_PER_MINUTE):
                        seq = minute * SEGMENTS_PER_MINUTE + k
                        start = origin + timedelta(seconds=seq * seg_s)
                        body = pool.body_segment(phase[n] + seq, "-", seq, start)
                        seg = Segment(
                            agent_id=agent_id,
                            station_id=station_id,
                            seq=seq,
                            start=start,
                            duration=body["duration"],
                            level_dbfs=body["level_dbfs"],
                            status="new",
                        )
                        seg.fingerprints = [
                            SegmentFingerprint(rate_ppm=0, data=base64.b64decode(b))
                            for b in body["fingerprints"]  # type: ignore[attr-defined]
                        ]
                        session.add(seg)
            t0 = time.process_time()
            while True:
                catalog, done = run_once(db.sessions, catalog, settings)
                done_total += done
                if not done:
                    break
            t1 = time.process_time()
            close_quiet_plays(db.sessions)
            cycles += t1 - t0
            closing += time.process_time() - t1
            if (minute + 1) % 10 == 0 or minute + 1 == args.minutes:
                c0, k0, d0 = period_start
                segs = max(1, done_total - d0)
                periods.append(
                    {
                        "airtime_min": minute + 1,
                        "segments": done_total - d0,
                        "cycle_ms_per_segment": 1000 * (cycles - c0) / segs,
                        "closing_ms_per_segment": 1000 * (closing - k0) / segs,
                    }
                )
                log(
                    f"minute {minute + 1}: {periods[-1]['cycle_ms_per_segment']:.2f} ms/segment in cycles, "
                    f"{periods[-1]['closing_ms_per_segment']:.2f} closing"
                )
                period_start = (cycles, closing, done_total)
        digest, plays = _plays(db, out / "plays.csv", origin)
    return {
        "stations": args.stations,
        "minutes": args.minutes,
        "segments": done_total,
        "cycle_cpu_s": round(cycles, 2),
        "closing_cpu_s": round(closing, 2),
        "ms_per_segment": round(1000 * (cycles + closing) / max(1, done_total), 3),
        "periods": periods,
        "plays": plays,
        "plays_digest": digest,
        "database": "postgresql" if args.database_url else "sqlite",
    }


def _plays(db: Any, path: Path, origin: datetime) -> tuple[str, int]:
    """Every play as (station, recording, start and end in seconds of airtime, status), written
    to ``path``; its digest (the same for the same plays, whenever the run)."""
    with db.transaction() as session:
        rows = session.execute(
            Play.__table__.select()
            .with_only_columns(Play.station_id, Recording.external_id, Play.start, Play.end, Play.status)
            .join_from(Play, Recording, Recording.id == Play.recording_id)
            .order_by(Play.station_id, Play.start)
        ).all()
    lines = [
        [sid, ext, f"{(start - origin).total_seconds():.3f}", f"{(end - origin).total_seconds():.3f}", status]
        for sid, ext, start, end, status in rows
    ]
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(lines)
    return hashlib.sha256(repr(lines).encode()).hexdigest()[:16], len(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stations", type=int, default=20)
    ap.add_argument("--minutes", type=int, default=60, help="minutes of airtime per station")
    ap.add_argument("--songs", type=int, default=8, help="catalog songs in the programme")
    ap.add_argument(
        "--database-url", help="a migrated-or-empty PostgreSQL database (default: SQLite in --out)"
    )
    ap.add_argument("--out", type=Path)
    ap.add_argument("--smoke", action="store_true", help="2 stations, 8 minutes: that it runs")
    args = ap.parse_args(argv)
    if args.smoke:
        args.stations, args.minutes = 2, 8
    out = args.out or Path(tempfile.mkdtemp(prefix="sodav-bench-worker-"))
    out.mkdir(parents=True, exist_ok=True)
    result = simulate(args, out)
    (out / "worker.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
