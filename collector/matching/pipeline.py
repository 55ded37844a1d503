"""The matching pipeline: name segments, then (re)assemble the station's plays.

Used by the worker on live uploads and by ``analyze`` on recordings: one code path.
Services never commit; the worker and the CLI commit at their task boundary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.ingest.models import Segment, SegmentFingerprint, SegmentMatch
from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_variants
from collector.plays.assembly import (
    SegInfo,
    SegmentMatchInfo,
    chain,
    play_status,
    refine,
    trim_overlaps,
)
from collector.plays.models import Play, PlaySegment
from shared.codec import DecodedSegment, decode

log = logging.getLogger("collector.matching")

REBUILD_MARGIN = timedelta(minutes=20)


@dataclass
class Catalog:
    index: CatalogIndex
    durations: dict[int, float]
    refs: dict[int, np.ndarray]
    version: tuple[int, datetime | None]


def catalog_version(session: Session) -> tuple[int, datetime | None]:
    row = session.execute(select(func.count(Recording.id), func.max(Recording.updated_at))).one()
    return int(row[0]), row[1]


def load_catalog(session: Session) -> Catalog:
    index = CatalogIndex()
    durations: dict[int, float] = {}
    refs: dict[int, np.ndarray] = {}
    for rec_id, blob, duration in session.execute(
        select(Recording.id, Recording.fingerprint, Recording.duration).order_by(Recording.id)
    ):
        values = decode(blob).values
        index.add(rec_id, values)
        refs[rec_id] = values
        durations[rec_id] = duration
    index.build()
    return Catalog(index, durations, refs, catalog_version(session))


def match_segments(session: Session, catalog: Catalog, segments: list[Segment]) -> int:
    """Match each segment, store the result and its status; return how many matched."""
    matched = 0
    for seg in segments:
        fps = [decode(f.data) for f in seg.fingerprints]
        m = match_variants(catalog.index, [(fp.rate_ppm, fp.values) for fp in fps])
        session.execute(delete(SegmentMatch).where(SegmentMatch.segment_id == seg.id))
        if m is None:
            seg.status = "unmatched"
            continue
        fp = next(f for f in fps if f.rate_ppm == m.rate_ppm)
        session.add(
            SegmentMatch(
                segment_id=seg.id,
                recording_id=m.recording_id,
                offset_s=m.offset_s,
                value_start=fp.start,
                rate_ppm=m.rate_ppm,
                score=m.score,
            )
        )
        seg.status = "matched"
        matched += 1
    session.flush()
    return matched


def _values_loader(session: Session):  # type: ignore[no-untyped-def]
    cache: dict[tuple[int, int], DecodedSegment | None] = {}

    def values_of(segment_id: int, rate_ppm: int) -> DecodedSegment | None:
        key = (segment_id, rate_ppm)
        if key not in cache:
            blob = session.scalar(
                select(SegmentFingerprint.data).where(
                    SegmentFingerprint.segment_id == segment_id, SegmentFingerprint.rate_ppm == rate_ppm
                )
            )
            cache[key] = decode(blob) if blob is not None else None
        return cache[key]

    return values_of


def rebuild_plays(
    session: Session, catalog: Catalog, station_id: int, since: datetime, final_all: bool = False
) -> int:
    """Reassemble the station's open plays from ``since`` on; return the number of plays written."""
    frozen = (
        select(PlaySegment.segment_id)
        .join(Play, Play.id == PlaySegment.play_id)
        .where(Play.station_id == station_id, Play.status == "final")
    )
    earliest_open = session.scalar(
        select(func.min(Play.start)).where(Play.station_id == station_id, Play.status == "open")
    )
    t0 = min(since, earliest_open) if earliest_open else since
    t0 -= REBUILD_MARGIN
    rows = session.execute(
        select(Segment.id, Segment.start, Segment.duration, SegmentMatch)
        .outerjoin(SegmentMatch, SegmentMatch.segment_id == Segment.id)
        .where(
            Segment.station_id == station_id,
            Segment.start >= t0,
            Segment.status.in_(("matched", "unmatched")),
            Segment.id.not_in(frozen),
        )
        .order_by(Segment.start, Segment.id)
    ).all()
    segs = [
        SegInfo(
            sid,
            start,
            start + timedelta(seconds=dur),
            SegmentMatchInfo(m.recording_id, m.offset_s, m.value_start, m.rate_ppm, m.score) if m else None,
        )
        for sid, start, dur, m in rows
    ]
    open_plays = select(Play.id).where(Play.station_id == station_id, Play.status == "open", Play.end >= t0)
    session.execute(delete(PlaySegment).where(PlaySegment.play_id.in_(open_plays)))
    session.execute(delete(Play).where(Play.id.in_(open_plays)))
    if not segs:
        return 0
    latest = max(s.end for s in segs)
    values_of = _values_loader(session)
    drafts = chain(segs, values_of, catalog.refs)
    drafts = [d for d in drafts if d.recording_id in catalog.refs]
    for d in drafts:
        refine(d, segs, catalog.refs[d.recording_id], values_of, catalog.durations[d.recording_id])
    trim_overlaps(drafts)
    for d in drafts:
        assert d.start and d.end
        status = play_status(d.end, latest, final_all)
        play = Play(
            station_id=station_id,
            recording_id=d.recording_id,
            start=d.start,
            end=d.end,
            duration=(d.end - d.start).total_seconds(),
            offset_start=max(0.0, d.offset_at(d.start)),
            offset_end=d.offset_at(d.end),
            confidence=d.confidence,
            matched_fraction=d.matched_fraction(),
            rate_ppm=d.rate_ppm,
            status=status,
        )
        session.add(play)
        session.flush()
        for s in d.matched:
            assert s.match
            session.add(
                PlaySegment(
                    play_id=play.id,
                    segment_id=s.id,
                    offset=s.match.offset_s,
                    score=s.match.score,
                    rate_ppm=s.match.rate_ppm,
                )
            )
    session.flush()
    return len(drafts)


def process(
    session: Session, catalog: Catalog, segments: list[Segment], final_all: bool = False
) -> tuple[int, int]:
    """Match claimed segments and rebuild the plays of their stations. Returns (matched, plays)."""
    matched = match_segments(session, catalog, segments)
    plays = 0
    by_station: dict[int, datetime] = {}
    for seg in segments:
        by_station[seg.station_id] = min(by_station.get(seg.station_id, seg.start), seg.start)
    for station_id, since in by_station.items():
        plays += rebuild_plays(session, catalog, station_id, since, final_all)
    return matched, plays
