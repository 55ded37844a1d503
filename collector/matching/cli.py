"""``sodav-collector analyze`` (offline recordings) and ``sodav-collector worker``."""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from collector.audio import AudioError, iter_pcm
from collector.catalog.models import Recording
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import upgrade
from collector.fleet.models import Agent
from collector.fleet.service import get_or_create_station
from collector.ingest.models import Segment, SegmentFingerprint
from collector.matching.matcher import match_variants
from collector.matching.pipeline import Catalog, load_catalog, process
from collector.matching.rates import FULL_SWEEP, RATE_RESOLUTION_PPM, estimate_rate_ppm
from collector.plays.models import Play
from collector.settings import load
from shared.chroma import CHROMAPRINT_RATE
from shared.codec import encode
from shared.schemas import utc
from shared.segmenter import Segment as SegmentOut
from shared.segmenter import Segmenter

ANALYSIS_AGENT = "offline-analysis"
SEGMENT_SECONDS = 10.0
BLOCK_SAMPLES = CHROMAPRINT_RATE * 5
CSV_COLUMNS = [
    "station",
    "external_id",
    "isrc",
    "title",
    "artist",
    "start",
    "end",
    "duration",
    "confidence",
    "offset_start",
    "offset_end",
    "rate_percent",
    "matched_fraction",
]


def _parse_time(text: str) -> datetime:
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        raise SystemExit(f"sodav-collector: --start {text!r}: {exc}; e.g. 2026-01-01T00:00:00Z") from None


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _blocks(
    chunks: Iterable[npt.NDArray[np.int16]], size: int = BLOCK_SAMPLES
) -> Iterator[npt.NDArray[np.int16]]:
    """Regroup a decoder's small frames into blocks: Chromaprint's per-call cost then vanishes."""
    buf: list[npt.NDArray[np.int16]] = []
    n = 0
    for chunk in chunks:
        buf.append(chunk)
        n += chunk.size
        if n >= size:
            yield np.concatenate(buf)
            buf, n = [], 0
    if buf:
        yield np.concatenate(buf)


def _segments(path: str, variants: list[int], start: datetime) -> tuple[list[SegmentOut], float]:
    """Every segment of one file, and the seconds of audio it held."""
    segmenter = Segmenter(CHROMAPRINT_RATE, SEGMENT_SECONDS, variants, start)
    outs: list[SegmentOut] = []
    for pcm in _blocks(iter_pcm(path)):
        outs += segmenter.feed(pcm)
    outs += segmenter.finish()
    return outs, segmenter.seconds_fed


def _station_rate(catalog: Catalog, outs: list[SegmentOut]) -> int | None:
    """The recording's playback rate measured from a first matching pass (see rates.estimate_rate_ppm)."""
    points = []
    for out in outs:
        variants = [(fp.rate_ppm, np.asarray(fp.values, dtype=np.uint32)) for fp in out.fingerprints]
        m = match_variants(catalog.index, variants, probe=False)
        if m is not None:
            fp = next(f for f in out.fingerprints if f.rate_ppm == m.rate_ppm)
            points.append((fp.start.timestamp(), m.recording_id, m.offset_s))
    return estimate_rate_ppm(points)


def _analyze(args: argparse.Namespace) -> int:
    settings = load(args.config)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    start = _parse_time(args.start)
    with factory() as session:
        if not session.scalar(select(func.count()).select_from(Recording)):
            print(
                "sodav-collector: the catalog is empty: run `sodav-collector catalog import FILE.csv`",
                file=sys.stderr,
            )
            return 2
        station = get_or_create_station(session, args.station, args.station)
        agent = session.scalar(select(Agent).where(Agent.name == ANALYSIS_AGENT))
        if agent is None:
            agent = Agent(name=ANALYSIS_AGENT, stations=[])
            session.add(agent)
        if station not in agent.stations:
            agent.stations.append(station)
        session.flush()
        seq = (
            session.scalar(
                select(func.max(Segment.seq)).where(
                    Segment.agent_id == agent.id, Segment.station_id == station.id
                )
            )
            or -1
        ) + 1
        catalog = load_catalog(session)
        session.commit()
        t = start
        first_new = seq
        for path in args.files:
            print(f"analyzing {path} from {_iso(t)} ...", file=sys.stderr)
            try:
                outs, seconds = _segments(path, FULL_SWEEP, t)
                rate = _station_rate(catalog, outs)
                if rate is not None and min(abs(rate - v) for v in FULL_SWEEP) >= RATE_RESOLUTION_PPM:
                    # between two sweep variants: fingerprint once more at the measured rate
                    print(f"  playback rate measured at {rate / 1e4:+.1f} %: adding it", file=sys.stderr)
                    extra, _ = _segments(path, [rate], t)
                    by_start = {o.start: o for o in extra}
                    for out in outs:
                        if out.start in by_start:
                            out.fingerprints.extend(by_start[out.start].fingerprints)
            except AudioError as exc:
                print(f"sodav-collector: {exc}", file=sys.stderr)
                return 2
            span_end = t + timedelta(seconds=seconds)
            earlier = session.scalar(
                select(func.count())
                .select_from(Segment)
                .where(
                    Segment.station_id == station.id,
                    Segment.seq < first_new,
                    Segment.start < span_end,
                    Segment.start >= t - timedelta(seconds=SEGMENT_SECONDS),
                )
            )
            if earlier:
                session.rollback()
                print(
                    f"sodav-collector: station {args.station} already has {earlier} segment(s) between "
                    f"{_iso(t)} and {_iso(span_end)} (an earlier analysis or live monitoring); "
                    "analyzing again would count its plays twice: use another --station name or "
                    "--start, or a fresh database (SODAV_COLLECTOR_DATABASE_URL)",
                    file=sys.stderr,
                )
                return 2
            for out in outs:
                seg = Segment(
                    agent_id=agent.id,
                    station_id=station.id,
                    seq=seq,
                    start=out.start,
                    duration=out.duration,
                    level_dbfs=out.level_dbfs,
                    status="new",
                )
                seg.fingerprints = [
                    SegmentFingerprint(rate_ppm=fp.rate_ppm, data=encode(fp)) for fp in out.fingerprints
                ]
                session.add(seg)
                seq += 1
            session.flush()
            t = t + timedelta(seconds=seconds)
        segments = list(
            session.scalars(
                select(Segment)
                .where(
                    Segment.agent_id == agent.id,
                    Segment.station_id == station.id,
                    Segment.seq >= first_new,
                    Segment.status == "new",
                )
                .order_by(Segment.start)
            )
        )
        matched, _ = process(session, catalog, segments, final_all=True)
        session.commit()
        rows = session.execute(
            select(Play, Recording)
            .join(Recording, Recording.id == Play.recording_id)
            .where(Play.station_id == station.id, Play.start < t, Play.end > start)
            .order_by(Play.start)
        ).all()
        end = t
    out_path = Path(args.csv) if args.csv else None
    fh = out_path.open("w", newline="", encoding="utf-8") if out_path else sys.stdout
    try:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for play, rec in rows:
            writer.writerow(
                [
                    args.station,
                    rec.external_id,
                    rec.isrc or "",
                    rec.title,
                    rec.artist,
                    _iso(play.start),
                    _iso(play.end),
                    f"{play.duration:.2f}",
                    f"{play.confidence:.3f}",
                    f"{play.offset_start:.2f}",
                    f"{play.offset_end:.2f}",
                    f"{play.rate_ppm / 1e4:+.1f}",
                    f"{play.matched_fraction:.3f}",
                ]
            )
    finally:
        if out_path:
            fh.close()
    print(
        f"{len(segments)} segments ({(end - start).total_seconds() / 60:.1f} min), {matched} matched, "
        f"{len(rows)} plays" + (f" -> {out_path}" if out_path else ""),
        file=sys.stderr,
    )
    engine.dispose()
    return 0


def _worker(args: argparse.Namespace) -> int:
    from collector.matching.worker import run_worker

    settings = load(args.config)
    upgrade(settings.database_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_worker(settings, stop)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("analyze", help="find the plays in recordings (aircheck files), offline")
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings, consecutive in time")
    p.add_argument("--station", required=True, help="station slug (created if missing)")
    p.add_argument("--start", required=True, help="UTC start of the first file, e.g. 2026-01-01T00:00:00Z")
    p.add_argument("--csv", help="write plays here (default: standard output)")
    p.set_defaults(func=_analyze)
    p = sub.add_parser("worker", help="match uploaded segments and assemble plays, continuously")
    p.set_defaults(func=_worker)
