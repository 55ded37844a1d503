"""Plays from segment matches: reassemble a station's open plays after new matches came in.

A station's plays stay *open* while more segments may still change them; a rebuild deletes
them and assembles them again, with every segment since the earliest open play (and a
margin); *final* plays and their segments are never touched again. When a play becomes final
is :mod:`collector.plays.closing`'s decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from collector.matching.catalog import Catalog
from collector.notify import events as notify_events
from collector.plays import repository
from collector.plays.boundaries import clear_of, refine, trim_overlaps
from collector.plays.chaining import chain
from collector.plays.closing import station_clock
from collector.plays.draft import SegInfo, SegmentMatchInfo, ValuesOf
from collector.plays.memo import memo_for
from collector.plays.models import Play, PlaySegment
from collector.plays.sequential import accumulate
from collector.plays.talkover import follow_on
from collector.plays.versions import choose_versions
from shared.codec import DecodedSegment, decode

REBUILD_MARGIN = timedelta(minutes=20)


def _values_loader(session: Session, segment_ids: Sequence[int], since: datetime) -> ValuesOf:
    """The fingerprints of a rebuild's segments (from ``since`` on), read in one go (a query
    per segment was a third of a rebuild's time), decoded when first asked for; any other
    segment's on demand."""
    blobs = repository.fingerprint_blobs(session, segment_ids, since)
    read = set(segment_ids)
    cache: dict[tuple[int, int], DecodedSegment | None] = {}

    def values_of(segment_id: int, rate_ppm: int) -> DecodedSegment | None:
        key = (segment_id, rate_ppm)
        if key not in cache:
            if segment_id in read:
                blob = blobs.pop(key, None)
            else:
                blob = repository.fingerprint_blob(session, segment_id, rate_ppm)
            cache[key] = decode(blob) if blob is not None else None
        return cache[key]

    return values_of


def rebuild_plays(
    session: Session, catalog: Catalog, station_id: int, since: datetime, final_all: bool = False
) -> int:
    """Reassemble the station's open plays from ``since`` on; return the number of plays written."""
    earliest_open = repository.earliest_open_play(session, station_id)
    t0 = min(since, earliest_open) if earliest_open else since
    t0 -= REBUILD_MARGIN
    segs = [
        SegInfo(
            sid,
            start,
            start + timedelta(seconds=dur),
            SegmentMatchInfo(m.recording_id, m.offset_s, m.value_start, m.rate_ppm, m.score) if m else None,
        )
        for sid, start, dur, m in repository.segments_to_assemble(session, station_id, t0)
    ]
    repository.delete_open_plays(session, station_id, t0)
    if not segs:
        return 0
    clock = station_clock(session, station_id, t0, datetime.now(UTC))
    values_of = _values_loader(session, [s.id for s in segs], t0)
    segs = accumulate(segs, catalog.index, catalog.masters, values_of, memo_for(catalog.index))
    drafts = chain(segs, values_of, catalog.refs)
    drafts = [d for d in drafts if d.recording_id in catalog.refs]
    drafts = choose_versions(drafts, catalog.index, catalog.refs, values_of)
    for d in drafts:
        refine(d, segs, catalog.refs[d.recording_id], values_of, catalog.durations[d.recording_id])
    follow_on(drafts, segs)
    trim_overlaps(drafts)
    drafts = clear_of(drafts, repository.play_bounds(session, station_id, t0))
    for d in drafts:
        assert d.start and d.end
        status = "final" if final_all or clock.is_final(d.end) else "open"
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
            alternate_recording_id=d.alternate_id,
            status=status,
        )
        session.add(play)
        session.flush()
        notify_events.play_final(session, play)  # a final play's webhooks, in this transaction
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
