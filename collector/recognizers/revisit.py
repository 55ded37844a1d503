"""When a learned recording's reference grows, its earlier plays are revised to the song's ends.

A learned recording's reference is the broadcast audio heard of its song
(:mod:`collector.recognizers.growth`); its first plays end where that reference ended when they
were made. When the reference grows before its start or past its end, the audio next to each
of its plays of the last ``matching.rematch_days`` days that began at the old start (ended at
the old end) is matched against the grown recording: what it names, and the segment touching
the play's edge, go back to the matching queue and the play is opened again, so that the
worker rebuilds it the one way plays are made, and the finished report periods they touch are
generated again with a note (:func:`collector.matching.rematch.note_revision`). Nothing here
commits.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.ingest.models import Segment
from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_variants
from collector.matching.rematch import note_revision
from collector.plays.models import Play
from shared.codec import decode

__all__ = ["rematch_beside_plays"]

log = logging.getLogger("collector.recognizers")
SEGMENT_S = 10.0  # an agent's segment: a play's edge lies within one of its audio


def rematch_beside_plays(
    session: Session,
    recording_id: int,
    before_s: float,
    after_s: float,
    days: float,
    now: datetime | None = None,
) -> int:
    """A learned recording's reference grew by ``before_s`` seconds before its start and
    ``after_s`` after its end: look for it in the unmatched audio next to its plays of the last
    ``days`` days that began at its old start (or ended at its old end), so that they get the
    song's start (end). The segments it names there, and the one touching each such play's
    edge (which re-places the edge against the grown reference), go back to the matching
    queue; the plays are then revised the one way plays are made, and the finished report
    periods they touch are generated again with a note. Returns the segments requeued."""
    rec = session.get(Recording, recording_id)
    if rec is None or days <= 0 or (before_s <= 0 and after_s <= 0):
        return 0
    at = now or datetime.now(UTC)
    length = rec.duration
    plays = session.execute(
        select(Play.id, Play.station_id, Play.start, Play.end, Play.offset_start, Play.offset_end).where(
            Play.recording_id == recording_id, Play.start >= at - timedelta(days=days)
        )
    ).all()
    windows: list[tuple[int, int, datetime, datetime, datetime]] = []  # play, station, from, to, edge
    near = timedelta(seconds=SEGMENT_S)
    for play_id, station_id, start, end, offset_start, offset_end in plays:
        if before_s > 0 and offset_start <= before_s + SEGMENT_S:
            windows.append(
                (play_id, station_id, start - timedelta(seconds=offset_start) - near, start, start)
            )
        if after_s > 0 and offset_end >= length - after_s - SEGMENT_S:
            windows.append(
                (play_id, station_id, end, end + timedelta(seconds=length - offset_end) + near, end)
            )
    if not windows:
        return 0
    index = CatalogIndex()
    index.add(recording_id, decode(rec.fingerprint).values)
    index.build()
    requeued: list[Segment] = []
    revised: set[int] = set()
    for play_id, station_id, since, until, edge in windows:
        segments = session.scalars(
            select(Segment)
            .where(
                Segment.station_id == station_id,
                Segment.status == "unmatched",
                Segment.start >= since - near,
                Segment.start < until,
            )
            .order_by(Segment.start)
        ).all()
        for seg in segments:
            seg_end = seg.start + timedelta(seconds=seg.duration)
            if seg_end <= since:
                continue
            touching = seg.start - near / 2 <= edge <= seg_end + near / 2
            variants = [(fp.rate_ppm, fp.values) for fp in (decode(f.data) for f in seg.fingerprints)]
            if touching or match_variants(index, variants, probe=False):
                seg.status, seg.claimed_at = "new", None
                requeued.append(seg)
                revised.add(play_id)
    # a final play is never reassembled: open again, it is rebuilt with the audio requeued beside
    # it, and made final again by the station's clock (its flags are kept by its times, not its id)
    session.execute(update(Play).where(Play.id.in_(revised), Play.status == "final").values(status="open"))
    if requeued:
        ends = " and ".join(e for e, grown in (("start", before_s), ("end", after_s)) if grown > 0)
        note_revision(
            session,
            min(seg.start for seg in requeued),
            max(seg.start for seg in requeued),
            at,
            f"plays revised {at:%Y-%m-%d %H:%M} UTC: learned recording {recording_id} ({rec.title}) "
            f"grew to the song's {ends} and was looked for next to its "
            f"earlier plays ({len(requeued)} segment(s))",
        )
        log.info(
            "re-matching: learned recording %d grew (%.0f s before, %.0f s after): %d segment(s) next to "
            "%d earlier play(s) requeued",
            recording_id,
            before_s,
            after_s,
            len(requeued),
            len(revised),
        )
    session.flush()
    return len(requeued)
