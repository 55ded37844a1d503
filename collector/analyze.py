"""``sodav-collector analyze``: the plays in recordings (aircheck files), offline.

The files are fingerprinted here as an agent would (every rate variant of the sweep, then the
playback rate measured from a first matching pass), stored as one station's segments, and
put through the worker's own :func:`collector.worker.process`: the same matching and play
assembly as live monitoring. Progress and a time estimate go to stderr; the plays go to a
CSV file or standard output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.audio import AudioError, declared_seconds, iter_pcm
from collector.catalog import repository as catalog_repository
from collector.catalog.models import Recording
from collector.db.session import Database, open_database
from collector.errors import InvalidRequest
from collector.fleet.service import check_slug, get_or_create_station, tokenless_agent
from collector.fleet.variants import FULL_SWEEP
from collector.formats import iso_z, rate_percent
from collector.ingest import repository as ingest_repository
from collector.ingest.models import Segment
from collector.ingest.service import store_segments
from collector.matching.catalog import Catalog, load_catalog
from collector.matching.matcher import match_variants
from collector.matching.rates import RATE_RESOLUTION_PPM, estimate_rate_ppm
from collector.plays.models import Play
from collector.plays.repository import plays_with_recordings
from collector.recognizers.learning import LEARNED_SOURCES
from collector.recognizers.offline import FilePart, name_unknowns
from collector.reports.exports import Column, csv_lines
from collector.worker import process
from shared.chroma import CHROMAPRINT_RATE
from shared.progress import Progress
from shared.schemas import utc
from shared.segmenter import Segment as SegmentOut
from shared.segmenter import Segmenter

ANALYSIS_AGENT = "offline-analysis"
SEGMENT_SECONDS = 10.0
BLOCK_SAMPLES = CHROMAPRINT_RATE * 5
CSV_COLUMNS = [
    Column(key)
    for key in (
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
        "source",
    )
]
ProgressFn = Callable[[float, float, str], None]


class AnalysisError(InvalidRequest):
    """Recordings that cannot be analysed as asked; the message says what to do instead."""


def _parse_time(text: str) -> datetime:
    try:
        start = utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        raise AnalysisError(f"--start {text!r}: {exc}; e.g. 2026-01-01T00:00:00Z") from None
    if not 1970 <= start.year < 2100:  # near year 1 or 9999, times overflow as plays are built
        raise AnalysisError(f"--start {text!r}: give a time between 1970 and 2100, e.g. 2026-01-01T00:00:00Z")
    return start


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


def _segments(path: str, variants: list[int], start: datetime, what: str) -> tuple[list[SegmentOut], float]:
    """Every segment of one file, and the seconds of audio it held."""
    segmenter = Segmenter(CHROMAPRINT_RATE, SEGMENT_SECONDS, variants, start)
    outs: list[SegmentOut] = []
    total = declared_seconds(path, guess=True)
    with Progress("fingerprinting", unit=" s") if total else nullcontext() as progress:
        for pcm in _blocks(iter_pcm(path)):
            outs += segmenter.feed(pcm)
            if progress is not None and total:
                progress(min(segmenter.seconds_fed, total), total, what)
        outs += segmenter.finish()
    return outs, segmenter.seconds_fed


def _station_rate(catalog: Catalog, outs: list[SegmentOut]) -> int | None:
    """The recording's playback rate measured from a first matching pass (see rates.estimate_rate_ppm)."""
    points = []
    with Progress("measuring the playback rate") as progress:
        for n, out in enumerate(outs, start=1):
            progress(n, len(outs))
            variants = [(fp.rate_ppm, np.asarray(fp.values, dtype=np.uint32)) for fp in out.fingerprints]
            m = match_variants(catalog.index, variants, probe=False)
            if m is not None:
                fp = next(f for f in out.fingerprints if f.rate_ppm == m.rate_ppm)
                points.append((fp.start.timestamp(), m.recording_id, m.offset_s))
    return estimate_rate_ppm(points)


def _fingerprint(path: str, catalog: Catalog, t: datetime) -> tuple[list[SegmentOut], float]:
    """The file's segments at every sweep variant, plus its own rate when it falls between two."""
    try:
        outs, seconds = _segments(path, FULL_SWEEP, t, f"s of {Path(path).name} fingerprinted")
        rate = _station_rate(catalog, outs)
        if rate is not None and min(abs(rate - v) for v in FULL_SWEEP) >= RATE_RESOLUTION_PPM:
            # between two sweep variants: fingerprint once more at the measured rate
            print(f"  playback rate measured at {rate_percent(rate)} %: adding it", file=sys.stderr)
            extra, _ = _segments(path, [rate], t, f"s at {rate_percent(rate)} % fingerprinted")
            by_start = {o.start: o for o in extra}
            for out in outs:
                if out.start in by_start:
                    out.fingerprints.extend(by_start[out.start].fingerprints)
    except AudioError as exc:
        raise AnalysisError(str(exc)) from exc
    return outs, seconds


def _csv_row(
    slug: str, play: Play, rec: Recording, known: set[int] | frozenset[int] = frozenset()
) -> list[Any]:
    return [
        slug,
        rec.external_id,
        rec.isrc or "",
        rec.title,
        rec.artist,
        iso_z(play.start, "milliseconds"),
        iso_z(play.end, "milliseconds"),
        f"{play.duration:.2f}",
        f"{play.confidence:.3f}",
        f"{play.offset_start:.2f}",
        f"{play.offset_end:.2f}",
        rate_percent(play.rate_ppm),
        f"{play.matched_fraction:.3f}",
        # catalog; audd, acoustid, manual: named during this run or by a person; learned: before
        "learned" if rec.id in known and rec.source in LEARNED_SOURCES else rec.source,
    ]


def analyze(
    session: Session, slug: str, files: list[str], start: datetime, parts: list[FilePart] | None = None
) -> tuple[int, int, datetime, list[tuple[Play, Recording]]]:
    """Analyse consecutive recordings of one station starting at ``start``; commits.

    Returns the segments stored, how many matched, the end of the recordings, and the plays.
    """
    if not catalog_repository.count(session):
        raise AnalysisError("the catalog is empty: run `sodav-collector catalog import FILE.csv`")
    station = get_or_create_station(session, slug, slug)
    agent = tokenless_agent(session, ANALYSIS_AGENT, station)
    first_new = seq = ingest_repository.next_seq(session, agent.id, station.id)
    catalog = load_catalog(session)
    session.commit()
    t = start
    for path in files:
        print(f"analyzing {path} from {iso_z(t, 'milliseconds')} ...", file=sys.stderr)
        outs, seconds = _fingerprint(path, catalog, t)
        span_end = t + timedelta(seconds=seconds)
        earlier = ingest_repository.count_segments_before_seq(
            session, station.id, first_new, t - timedelta(seconds=SEGMENT_SECONDS), span_end
        )
        if earlier:
            raise AnalysisError(
                f"station {slug} already has {earlier} segment(s) between "
                f"{iso_z(t, 'milliseconds')} and {iso_z(span_end, 'milliseconds')} (an earlier analysis "
                "or live monitoring); analyzing again would count its plays twice: use another "
                "--station name or --start, or a fresh database (SODAV_COLLECTOR_DATABASE_URL)"
            )
        seq = store_segments(session, agent.id, station.id, seq, outs)
        if parts is not None:
            parts.append(FilePart(Path(path), t, span_end))
        t = span_end
    segments = ingest_repository.new_segments(session, agent.id, station.id, first_new)
    with Progress("matching") as progress:
        matched, _ = process(session, catalog, segments, final_all=True, progress=progress)
    session.commit()
    return len(segments), matched, t, plays_with_recordings(session, station.id, start, t)


def name_and_match(db: Database, session: Session, slug: str, parts: list[FilePart], start: datetime) -> int:
    """The unknown music of the analysed files, clustered and looked up as live (the excerpts
    cut from the files); what is named is matched again. Returns the songs named."""
    station = get_or_create_station(session, slug, slug)
    clusters, named = name_unknowns(db.sessions, db.settings, station.id, parts)
    print(f"unknown music: {clusters} song(s), {named} named", file=sys.stderr)
    again = session.scalars(
        select(Segment).where(
            Segment.station_id == station.id, Segment.status == "new", Segment.start >= start
        )
    ).all()
    if again:
        process(session, load_catalog(session), again, final_all=True)
        session.commit()
    return named


def _analyze(args: argparse.Namespace) -> int:
    check_slug(args.station)
    start = _parse_time(args.start)
    parts: list[FilePart] = []
    with open_database(args.config, migrate=True) as db, db.sessions() as session:
        known = set(session.scalars(select(Recording.id).where(Recording.source.in_(LEARNED_SOURCES))))
        n_segments, matched, end, plays = analyze(session, args.station, args.files, start, parts)
        if name_and_match(db, session, args.station, parts, start):
            plays = plays_with_recordings(
                session, get_or_create_station(session, args.station, args.station).id, start, end
            )
        rows = [_csv_row(args.station, play, rec, known) for play, rec in plays]
    out_path = Path(args.csv) if args.csv else None
    with out_path.open("w", newline="", encoding="utf-8") if out_path else nullcontext(sys.stdout) as fh:
        for chunk in csv_lines(CSV_COLUMNS, rows):
            fh.write(chunk)
    print(
        f"{n_segments} segments ({(end - start).total_seconds() / 60:.1f} min), {matched} matched, "
        f"{len(rows)} plays" + (f" -> {out_path}" if out_path else ""),
        file=sys.stderr,
    )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("analyze", help="find the plays in recordings (aircheck files), offline")
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings, consecutive in time")
    p.add_argument("--station", required=True, help="station slug (created if missing)")
    p.add_argument("--start", required=True, help="UTC start of the first file, e.g. 2026-01-01T00:00:00Z")
    p.add_argument("--csv", help="write plays here (default: standard output)")
    p.set_defaults(func=_analyze)
