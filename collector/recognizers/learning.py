"""A named cluster becomes a catalog recording, so that its next plays match locally, for free.

:func:`learn` turns a cluster and the candidate that named it (AudD's, AcoustID's, or what a
person typed: ``source`` ``audd``, ``acoustid`` or ``manual``) into a :class:`Recording` whose
reference fingerprint is the cluster's, the broadcast one: the matcher then names the song on
every station as it names the society's own recordings. Every field the provider gave is kept
(ISRC, album, label, release date, song link, its identifiers), accents intact. The cluster's
own spans go back to the matching queue, so that their plays are assembled too.

When the society later imports the master audio with the same ISRC, :func:`merge_imported`
makes the two one: the imported recording wins, the learned one's matches, plays, flags and
clusters move to it, and the learned one is retired (never matched again, deleted once no
rollup names it). Nothing here commits.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from collector.catalog.models import Recording
from collector.catalog.repository import RETIRED
from collector.ingest.models import Segment
from collector.matching.models import SegmentMatch
from collector.plays.models import Play, PlayFlag
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.outcomes import Candidate
from shared.codec import decode

__all__ = ["LEARNED_SOURCES", "learn", "merge_imported", "purge_retired", "requeue_spans", "retire"]

log = logging.getLogger("collector.recognizers")
LEARNED_SOURCES = ("audd", "acoustid", "manual")
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
# a segment starting this long before a span may hold its first seconds
SEGMENT_MARGIN = timedelta(seconds=30)
_LIMITS = {"title": 500, "artist": 500, "album": 500, "label": 300}


def _text(value: str | None, key: str) -> str | None:
    return value.strip()[: _LIMITS[key]] if value and value.strip() else None


def learn(session: Session, cluster: UnknownCluster, named: Candidate, source: str) -> Recording:
    """The cluster's recording, made from what named it (``source``: audd, acoustid or manual)."""
    if source not in LEARNED_SOURCES:
        raise ValueError(f"source must be one of {LEARNED_SOURCES}")
    ref = decode(cluster.reference)
    isrc = (named.isrc or "").replace("-", "").upper()
    year = named.release_date[:4] if named.release_date and named.release_date[:4].isdigit() else None
    rec = Recording(
        external_id=f"{source}:cluster:{cluster.id}",
        title=_text(named.title, "title") or "?",
        artist=_text(named.artist, "artist") or "?",
        isrc=isrc if _ISRC.match(isrc) else None,
        album=_text(named.album, "album"),
        label=_text(named.label, "label"),
        year=int(year) if year else None,
        duration=ref.duration,
        fingerprint=cluster.reference,
        fingerprint_sha256=hashlib.sha256(cluster.reference).hexdigest(),
        source=source,
        release_date=(named.release_date or None) and str(named.release_date)[:32],
        song_link=named.song_link,
        provider_ids=dict(named.ids) or None,
    )
    session.add(rec)
    session.flush()
    cluster.recording_id = rec.id
    cluster.lookup = "named"
    requeue_spans(session, [cluster.id])
    log.info(
        "learned recording id=%d %r (%s, cluster %d, ISRC %s)",
        rec.id,
        rec.title,
        source,
        cluster.id,
        rec.isrc or "none",
    )
    return rec


def requeue_spans(session: Session, cluster_ids: Sequence[int], span_ids: Sequence[int] | None = None) -> int:
    """Put the clusters' (or only these spans') unmatched segments back in the matching queue;
    return how many."""
    stmt = select(UnknownSpan.station_id, UnknownSpan.start, UnknownSpan.end).where(
        UnknownSpan.cluster_id.in_(cluster_ids)
    )
    if span_ids is not None:
        stmt = stmt.where(UnknownSpan.id.in_(span_ids))
    spans = session.execute(stmt).all()
    n = 0
    for station_id, start, end in spans:
        result = session.execute(
            update(Segment)
            .where(
                Segment.station_id == station_id,
                Segment.status == "unmatched",
                Segment.start < end,
                Segment.start >= start - SEGMENT_MARGIN,
            )
            .values(status="new", claimed_at=None)
        )
        n += int(getattr(result, "rowcount", 0) or 0)
    return n


def merge_imported(session: Session) -> int:
    """Make each learned recording one with the imported recording of the same ISRC; return how
    many were merged. The imported one wins: matches, plays and clusters move to it."""
    learned, imported = aliased(Recording), aliased(Recording)
    pairs = session.execute(
        select(learned.id, imported.id)
        .join(
            imported,
            and_(
                imported.isrc == learned.isrc,
                imported.source == "catalog",
                imported.id != learned.id,
            ),
        )
        .where(learned.source.in_(LEARNED_SOURCES), learned.isrc.is_not(None))
        .order_by(learned.id, imported.id)
    ).all()
    done: set[int] = set()
    for old, new in pairs:
        if old in done:
            continue
        done.add(old)
        for model in (SegmentMatch, Play, PlayFlag, UnknownCluster):
            session.execute(update(model).where(model.recording_id == old).values(recording_id=new))
        retire(session, old)
        log.info("learned recording id=%d merged into imported recording id=%d (same ISRC)", old, new)
    session.flush()
    return len(done)


def retire(session: Session, recording_id: int) -> None:
    """Take a learned recording out of matching, and delete it once nothing names it (a finished
    month's airtime rollup may, until the reports' worker recomputes that month)."""
    rec = session.get_one(Recording, recording_id)
    rec.source, rec.isrc = RETIRED, None
    purge_retired(session, [recording_id])


def purge_retired(session: Session, ids: Sequence[int] | None = None) -> int:
    """Delete the retired recordings (``ids``, or every one) that nothing refers to any more."""
    if ids is None:
        ids = session.scalars(select(Recording.id).where(Recording.source == RETIRED)).all()
    gone = 0
    for rid in ids:
        try:
            with session.begin_nested():
                session.execute(delete(Recording).where(Recording.id == rid))
            gone += 1
        except IntegrityError:
            pass  # still in a rollup: tried again at the next pass
    return gone
