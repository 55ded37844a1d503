"""Reports benchmark: a year of plays on PostgreSQL, then airtime and playlist latencies.

Seeds ``--stations`` stations × ``--days`` days × ``--plays-per-day`` plays (full scale:
300 × 365 × 274 ≈ 30 M plays, ``--full``), entirely inside PostgreSQL with
``INSERT … SELECT generate_series(…)`` (one statement per batch of stations, indexes dropped
during the load and rebuilt after, then ``VACUUM ANALYZE``). Then measures, through the same
service functions the API calls:

- the monthly all-station airtime report (per recording: plays, seconds, stations), one
  month after another (p50/p95 over ``--repeat`` rounds of 12 months), once the month's
  rollup is current; the rollup computation itself and the same report computed straight
  from the plays are measured too;
- one station's monthly playlist (relevé de diffusion), random station and month;
- the running month (the last one seeded): rounds of a minute of the worker's writes (final
  plays inserted, one edited, one flagged), each followed by the all-station airtime report
  (read from the rollup, the recordings changed since the last fold summed from the plays)
  and the fold the worker's ticker does every minute; then an hour of writes left unfolded;
- the cost of the rollup's trigger and index on inserting plays: 100 000 plays in one
  ``INSERT … SELECT`` and 2 000 one ``INSERT`` at a time (as the worker flushes its plays),
  with them and without them (inside the transaction: trigger disabled, index dropped), each
  rolled back.

Without ``--database-url`` a throwaway PostgreSQL cluster is started (and seeded every run);
with it, ``--reuse`` skips seeding when the database already holds the requested plays.

    python -m bench.reports.run                  # 3 M plays (scale 0.1)
    python -m bench.reports.run --full           # 30 M plays
    python bench/reports/run.py --database-url postgresql://postgres@127.0.0.1:5432/bench --reuse
    python -m bench.reports.run --smoke          # seconds: 3 stations × 31 days, one month measured
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from collector.db import partitions
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import upgrade
from collector.plays import flags
from collector.plays.models import Play
from collector.reports import distribution as service
from collector.reports import exports, repository, rollup
from collector.reports.periods import Period, parse_period
from shared.progress import Progress

YEAR = 2026
PLAY_INDEXES = {
    "ix_plays_station_start": "CREATE INDEX ix_plays_station_start ON plays (station_id, start)",
    "ix_plays_recording_start": "CREATE INDEX ix_plays_recording_start ON plays (recording_id, start)",
    "ix_plays_start": "CREATE INDEX ix_plays_start ON plays (start)",
    "ix_plays_final_start": "CREATE INDEX ix_plays_final_start ON plays "
    "(start, station_id, recording_id, duration) WHERE status = 'final'",
    "ix_plays_final_recording": "CREATE INDEX ix_plays_final_recording ON plays "
    "(recording_id, start, station_id, duration, \"end\") WHERE status = 'final'",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def seed(url: str, stations: int, days: int, per_day: int, recordings: int) -> float:
    """Fill an empty, migrated database; returns the seconds it took."""
    t0 = time.perf_counter()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    step = 86400.0 / per_day
    with engine.connect() as c:
        c.execute(text("SET session_replication_role = replica"))  # no FK triggers during the load
        c.execute(
            text(
                "INSERT INTO stations (id, slug, name, created_at) "
                "SELECT i, 'st' || lpad(i::text, 3, '0'), 'Station ' || i, now() "
                "FROM generate_series(1, :n) i"
            ),
            {"n": stations},
        )
        c.execute(
            text(
                "INSERT INTO recordings (id, external_id, title, artist, isrc, label, composer, duration, "
                "fingerprint, fingerprint_sha256, created_at, updated_at) "
                "SELECT i, 'REC-' || i, 'Title ' || i, 'Artist ' || (i % 3000), "
                "'SNA01' || lpad(i::text, 7, '0'), 'Label ' || (i % 200), 'Composer ' || (i % 5000), "
                "180 + i % 120, '\\x53465031'::bytea, md5(i::text) || md5(i::text), now(), now() "
                "FROM generate_series(1, :n) i"
            ),
            {"n": recordings},
        )
        for name in PLAY_INDEXES:
            c.execute(text(f"DROP INDEX IF EXISTS {name}"))
        if partitions.partitioned(c, "plays"):  # PostgreSQL since 0013: the year's monthly partitions
            first = date(YEAR, 1, 1)
            for n in range((days + 30) // 31 + 1):
                partitions.create_month(c, "plays", partitions.add_months(first, n))
        batch = max(1, 3_000_000 // (days * per_day))
        # the index builds take about as long as a third of the inserts
        bar = Progress("seeding", stations + stations // 3, " stations")
        for first in range(1, stations + 1, batch):
            last = min(first + batch - 1, stations)
            # every station plays at a steady pace with a per-station phase; a popular head of the
            # catalog (1/16 of it gets half the plays), the rest spread evenly
            c.execute(
                text(
                    """
                    INSERT INTO plays (station_id, recording_id, start, "end", duration, offset_start,
                        offset_end, confidence, matched_fraction, rate_ppm, status, created_at, updated_at)
                    SELECT s, r, t, t + make_interval(secs => d), d, 0, d, 0.9, 0.8, 0,
                        CASE WHEN t >= :final_before THEN 'open' ELSE 'final' END, t, t
                    FROM (
                        SELECT s,
                            CASE WHEN (i * 7 + s) % 2 = 0
                                 THEN 1 + (i * 7919 + s * 31) % (CAST(:rec AS int) / 16)
                                 ELSE 1 + (i * 104729 + s * 17) % :rec END AS r,
                            :t0 + make_interval(secs => i * :step + (s * 37) % 60) AS t,
                            60 + ((i * 13 + s) % 180)::float AS d
                        FROM generate_series(CAST(:first AS int), CAST(:last AS int)) s,
                            generate_series(CAST(0 AS bigint), CAST(:n AS bigint) - 1) i
                    ) x
                    """
                ),
                {
                    "first": first,
                    "last": last,
                    "n": days * per_day,
                    "step": step,
                    "rec": recordings,
                    "t0": datetime(YEAR, 1, 1, tzinfo=UTC),
                    # the last day's plays are still open, as they would be
                    "final_before": datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(days=days - 1),
                },
            )
            bar.update(last, f"stations {first}-{last}")
        bar.clear()
        log(f"plays inserted ({time.perf_counter() - t0:.0f} s)")
        for i, (name, ddl) in enumerate(PLAY_INDEXES.items()):
            bar.update(stations + stations // 3 * i // len(PLAY_INDEXES), f"index {name}")
            c.execute(text(ddl))
        bar.done()
        log(f"indexes built ({time.perf_counter() - t0:.0f} s)")
        c.execute(text("SELECT setval('plays_id_seq', (SELECT max(id) FROM plays))"))
        c.execute(text("VACUUM ANALYZE plays"))
        c.execute(text("VACUUM ANALYZE recordings"))
        c.execute(text("VACUUM ANALYZE stations"))
    engine.dispose()
    return time.perf_counter() - t0


# a minute or an hour of the worker's final plays in the running month, random stations and
# recordings (half on the popular sixteenth of the catalogue, as seeded)
WRITE_PLAYS = """
    INSERT INTO plays (station_id, recording_id, start, "end", duration, offset_start, offset_end,
        confidence, matched_fraction, rate_ppm, status, created_at, updated_at)
    SELECT st, r, t, t + make_interval(secs => d), d, 0, d, 0.9, 0.8, 0, 'final', now(), now()
    FROM (
        SELECT 1 + floor(random() * :stations)::int AS st,
            CASE WHEN random() < 0.5 THEN 1 + floor(random() * (:rec / 16))::int
                 ELSE 1 + floor(random() * :rec)::int END AS r,
            CAST(:lo AS timestamptz) + random() * (CAST(:hi AS timestamptz) - CAST(:lo AS timestamptz)) AS t,
            60 + random() * 180 AS d
        FROM generate_series(1, :n)
    ) x
    RETURNING id
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def latencies(values: list[float], target_ms: int, **extra: int) -> dict[str, float]:
    """p50, p95 and max of a report's timings, in ms, with the target and what else it needs."""
    return {
        "p50_ms": ms(statistics.median(values)),
        "p95_ms": ms(percentile(values, 0.95)),
        "max_ms": ms(max(values)),
        "n": len(values),
        **extra,
        "target_ms": target_ms,
    }


def running_month(
    url: str, period: Period, stations: int, recordings: int, per_day: int, rounds: int
) -> dict[str, object]:
    """The running month's airtime while the worker writes, the rollup folded every minute."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    minute = max(1, stations * per_day // 1440)
    args = {"stations": stations, "rec": recordings, "lo": period.start, "hi": period.end}
    reads: list[float] = []
    folds: list[float] = []
    written: list[int] = []
    bar = Progress("running month", rounds + 6, " steps")

    def write(s: Session, n: int) -> None:
        ids = list(s.scalars(text(WRITE_PLAYS), {**args, "n": n}))
        written.extend(ids)
        edited = s.get(Play, ids[0])
        assert edited is not None
        edited.duration += 1.0
        play = s.get(Play, ids[-1])
        assert play is not None
        flags.set_flag(s, play, "bench", "bench")
        s.commit()

    def read(s: Session) -> float:
        t = time.perf_counter()
        service.airtime_table(s, "recording", period, None)
        return time.perf_counter() - t

    def fold(s: Session) -> float:
        t = time.perf_counter()
        rollup.fold(s, period.tz.key)
        s.commit()
        return time.perf_counter() - t

    with factory() as s:
        rollup.fold(s, period.tz.key)  # what earlier runs left
        s.commit()
        for _ in range(rounds):
            bar.step(f"a minute of writes ({minute} plays), airtime, fold")
            write(s, minute)
            reads.append(read(s))
            folds.append(fold(s))
        bar.step(f"an hour of writes ({60 * minute} plays), unfolded")
        write(s, 60 * minute)
        hour = []
        for _ in range(3):
            bar.step("airtime after an hour unfolded")
            hour.append(read(s))
        bar.step("fold an hour")
        hour_fold = fold(s)
        bar.step("clean up")
        s.execute(text("DELETE FROM play_flags WHERE flagged_by = 'bench'"))
        s.execute(text("DELETE FROM plays WHERE id = ANY(:ids)"), {"ids": written})
        s.commit()
        rollup.fold(s, period.tz.key)
        s.commit()
    engine.dispose()
    bar.done()
    return {
        "airtime_running_month": latencies(reads, 1000, plays_per_minute=minute),
        "rollup_fold_minute_ms": {"p50": ms(statistics.median(folds)), "max": ms(max(folds))},
        "airtime_running_month_hour_unfolded_ms": {"p50": ms(statistics.median(hour)), "max": ms(max(hour))},
        "rollup_fold_hour_ms": ms(hour_fold),
    }


def insert_cost(
    url: str,
    period: Period,
    stations: int,
    recordings: int,
    bulk: int,
    single: int,
    repeat: int,
    trigger: str = "plays_airtime_change",
    index: str | None = "ix_plays_final_recording",
) -> dict[str, object]:
    """Inserting final plays with the rollup's trigger and index and without them, rolled back
    each time (the trigger disabled and the index dropped inside the transaction)."""
    engine = create_engine(url)
    args = {"stations": stations, "rec": recordings, "lo": period.start, "hi": period.end}
    one = WRITE_PLAYS.replace("RETURNING id", "")
    sizes = {"bulk": bulk, "one_by_one": single}
    timings: dict[tuple[str, bool], list[float]] = {}
    bar = Progress("insert cost", 4 * repeat, " runs")
    for _ in range(repeat):
        for how, n in sizes.items():
            for on in (True, False):
                bar.step(f"{how}, trigger {'on' if on else 'off'}")
                with engine.connect() as c:
                    if not on:  # inside the transaction: rolled back with the plays
                        c.execute(text(f"ALTER TABLE plays DISABLE TRIGGER {trigger}"))
                        if index:
                            c.execute(text(f"DROP INDEX {index}"))
                    t = time.perf_counter()
                    if how == "bulk":
                        c.execute(text(one), {**args, "n": n})
                    else:
                        for _ in range(n):
                            c.execute(text(one), {**args, "n": 1})
                    timings.setdefault((how, on), []).append(time.perf_counter() - t)
                    c.rollback()
    engine.dispose()
    bar.done()
    out: dict[str, object] = {}
    for how, n in sizes.items():
        with_, without = statistics.median(timings[(how, True)]), statistics.median(timings[(how, False)])
        out[f"insert_{how}"] = {
            "plays": n,
            "with_trigger_s": round(with_, 3),
            "without_trigger_s": round(without, 3),
            "us_per_play": round((with_ - without) / n * 1e6, 1),
            "slower_pct": round((with_ / without - 1) * 100, 1),
        }
    return out


def measure(url: str, stations: int, repeat: int, months: int) -> dict[str, object]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    rnd = random.Random(1)
    periods = [parse_period(f"{YEAR}-{m:02d}") for m in range(1, months + 1)]
    airtime: list[float] = []
    playlist: list[float] = []
    playlist_xlsx: list[float] = []
    rows_airtime = rows_playlist = 0
    refresh: list[float] = []
    raw: list[float] = []
    bar = Progress("measuring", len(periods) * (1 + repeat) + 2 * len(periods[:3]), " reports")
    with factory() as s:
        for p in periods:  # the rollup of each month, computed once (what a report after a change pays)
            bar.step(f"rollup {p.label}")
            t = time.perf_counter()
            rollup.refresh(s, p.label, p.tz.key)
            s.commit()
            refresh.append(time.perf_counter() - t)
        for p in periods[:3]:  # the same report straight from the plays, for comparison
            bar.step(f"airtime {p.label} from the plays")
            t = time.perf_counter()
            repository.airtime(s, "recording", p.start, p.end, None)
            raw.append(time.perf_counter() - t)
        for _ in range(repeat):
            for p in periods:
                bar.step(f"airtime and playlist {p.label}")
                t = time.perf_counter()
                table = service.airtime_table(s, "recording", p, None)
                airtime.append(time.perf_counter() - t)
                rows_airtime = len(table.rows)
                slug = f"st{rnd.randint(1, stations):03d}"
                p2 = rnd.choice(periods)
                t = time.perf_counter()
                pl, meta = service.playlist(s, slug, p2, "fr")
                playlist.append(time.perf_counter() - t)
                rows_playlist = len(pl.rows)
        for p in periods[:3]:
            bar.step(f"playlist {p.label} as XLSX")
            pl, meta = service.playlist(s, "st001", p, "fr")
            t = time.perf_counter()
            exports.to_xlsx([pl], meta, "fr")
            playlist_xlsx.append(time.perf_counter() - t)
        total = s.execute(text("SELECT count(*) FROM plays")).scalar_one()
    engine.dispose()
    bar.done()
    return {
        "plays": total,
        "airtime_month_all_stations": latencies(airtime, 1000, rows=rows_airtime),
        "playlist_station_month": latencies(playlist, 300, rows=rows_playlist),
        "rollup_refresh_month_ms": {"p50": ms(statistics.median(refresh)), "max": ms(max(refresh))},
        "airtime_month_from_plays_ms": {"p50": ms(statistics.median(raw)), "max": ms(max(raw))},
        "playlist_xlsx_render_ms": ms(statistics.median(playlist_xlsx)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL database to use (default: a throwaway cluster)")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--full", action="store_true", help="full scale: 274 plays/station/day (≈30 M plays)")
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--plays-per-day", type=int, default=27, help="per station (default 27: ≈3 M plays)")
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds of 12 months")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.stations, args.days, args.plays_per_day, args.recordings, args.repeat = 3, 31, 10, 50, 1
    per_day = 274 if args.full else args.plays_per_day
    expected = args.stations * args.days * per_day
    with ExitStack() as stack:
        if args.database_url:
            url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        else:
            from tests.fixtures.postgres import throwaway_cluster

            server = stack.enter_context(throwaway_cluster())
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text("CREATE DATABASE bench_reports"))
            admin.dispose()
            url = make_url(server).set(database="bench_reports").render_as_string(hide_password=False)
        upgrade(url)
        engine = create_engine(url)
        with engine.connect() as c:
            have = c.execute(text("SELECT count(*) FROM plays")).scalar_one()
        engine.dispose()
        seed_s = None
        if not (args.reuse and have == expected):
            if have:
                raise SystemExit(f"the database already holds {have} plays; use an empty one (or --reuse)")
            log(f"seeding {expected:,} plays: {args.stations} stations × {args.days} days × {per_day}/day")
            seed_s = seed(url, args.stations, args.days, per_day, args.recordings)
        log("measuring")
        months = min(12, max(1, args.days * 12 // 365))
        result = measure(url, args.stations, args.repeat, months)
        running = parse_period(f"{YEAR}-{months:02d}")  # the last month seeded
        result.update(running_month(url, running, args.stations, args.recordings, per_day, 5 * args.repeat))
        sizes = (1_000, 50, 1) if args.smoke else (100_000, 2_000, 3)
        result.update(insert_cost(url, running, args.stations, args.recordings, *sizes))
    result.update(
        {
            "seed_s": None if seed_s is None else round(seed_s, 1),
            "stations": args.stations,
            "days": args.days,
            "plays_per_station_day": per_day,
            "recordings": args.recordings,
            "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
    )
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
