"""Retroactive re-matching: recordings that join the catalog are looked for in the audio already
heard.

When recordings are added (a catalog import, a recording learned from a named cluster, one an
analyst accepted), the unmatched segments of the last ``matching.rematch_days`` days are
matched against *those recordings only* (a small index: cheap per segment), in batches of
``BATCH`` segments per call, resumably (:class:`RematchMark` keeps the place). A segment that
one of them names goes back to the matching queue: the worker then matches it against the whole
catalog and rebuilds its station's plays there, as for new audio, so plays are revised the one
way plays are made; the reports' rollups see the changed months through their trigger.

A pass covers the recordings added up to its start (``target``); recordings added meanwhile
get a pass of their own after it. Nothing here commits.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from collector.catalog.models import Recording
from collector.catalog.repository import RETIRED
from collector.db.base import Base, BigId, UTCDateTime
from collector.ingest.models import Segment
from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_variants
from shared.codec import decode

__all__ = ["BATCH", "RematchMark", "note_revision", "rematch_past", "rematch_step"]

log = logging.getLogger("collector.worker")
BATCH = 2000  # unmatched segments looked at per step
MERGE_REVISIONS = timedelta(days=1)  # a revision this recent may not have been generated yet
NOTE_MAX = 2000


class RematchMark(Base):
    """Where re-matching stands: recordings up to ``done`` were looked for; the pass under way
    looks for those up to ``target`` and has reached segment ``cursor``."""

    __tablename__ = "rematch_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[int | None] = mapped_column(Integer)
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requeued: Mapped[int] = mapped_column(Integer, default=0, doc="segments requeued by the pass")
    first: Mapped[datetime | None] = mapped_column(UTCDateTime(), doc="the pass's earliest requeued segment")
    last: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the last pass that requeued anything: the audio it changed, when it ended, and why
    last_first: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_last: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_note: Mapped[str | None] = mapped_column(Text)


def _mark(session: Session, wait: bool = False) -> RematchMark | None:
    """The mark, locked on PostgreSQL (None when another worker holds it, unless ``wait``)."""
    stmt = select(RematchMark).where(RematchMark.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=not wait)
    mark = session.scalars(stmt).first()
    if mark is None:
        if session.scalar(select(func.count()).select_from(RematchMark)):
            return None  # locked by another worker
        # migration 0010 writes it; a database without it starts from the first recording
        mark = RematchMark(id=1, done=0, target=None, cursor=0, requeued=0)
        session.add(mark)
        session.flush()
    return mark


def rematch_step(
    session: Session, days: float, now: datetime | None = None, batch: int = BATCH
) -> int | None:
    """One batch of the pass under way (starting one if recordings were added); returns the
    segments requeued, or None when there is nothing to do."""
    mark = _mark(session)
    if mark is None:
        return None
    if mark.target is None:
        latest = int(session.scalar(select(func.max(Recording.id))) or 0)
        if latest <= mark.done:
            return None
        mark.target, mark.cursor, mark.requeued, mark.started_at = latest, 0, 0, now or datetime.now(UTC)
    index = CatalogIndex()
    for rec_id, blob in session.execute(
        select(Recording.id, Recording.fingerprint).where(
            Recording.id > mark.done, Recording.id <= mark.target, Recording.source != RETIRED
        )
    ):
        index.add(rec_id, decode(blob).values)
    index.build()
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    segments = session.scalars(
        select(Segment)
        .where(Segment.id > mark.cursor, Segment.status == "unmatched", Segment.start >= since)
        .order_by(Segment.id)
        .limit(batch)
    ).all()
    requeued = 0
    for seg in segments if len(index) else ():
        variants = [(fp.rate_ppm, fp.values) for fp in (decode(f.data) for f in seg.fingerprints)]
        if match_variants(index, variants, probe=False):
            seg.status, seg.claimed_at = "new", None
            requeued += 1
            first = seg.start if mark.first is None else min(mark.first, seg.start)
            last = seg.start if mark.last is None else max(mark.last, seg.start)
            mark.first, mark.last = first, last
    mark.requeued += requeued
    if len(segments) < batch:
        log.info(
            "re-matching: recordings %d..%d looked for in %g days of unmatched audio: %d segment(s) requeued",
            mark.done + 1,
            mark.target,
            days,
            mark.requeued,
        )
        if mark.requeued and mark.first is not None and mark.last is not None:
            at = now or datetime.now(UTC)
            _revised(
                mark,
                mark.first,
                mark.last,
                at,
                f"plays revised {at:%Y-%m-%d %H:%M} UTC: recordings {mark.done + 1} to "
                f"{mark.target} joined the catalog and were found in {mark.requeued} segment(s) of the past",
            )
        mark.done, mark.target, mark.cursor, mark.first, mark.last = mark.target, None, 0, None, None
    else:
        mark.cursor = segments[-1].id
    session.flush()
    return requeued


def _revised(mark: RematchMark, first: datetime, last: datetime, at: datetime, note: str) -> None:
    """Plays between ``first`` and ``last`` were revised at ``at``: the reports' worker generates
    the finished periods they touch again (:mod:`collector.reports.revisions`). A revision
    recorded less than ``MERGE_REVISIONS`` before may not have been generated yet: the two are
    kept as one (their audio, their notes)."""
    recent = mark.last_finished_at is not None and at - mark.last_finished_at < MERGE_REVISIONS
    if recent and mark.last_first is not None and mark.last_last is not None:
        first, last = min(first, mark.last_first), max(last, mark.last_last)
        if mark.last_note and mark.last_note not in note:
            note = f"{note}; {mark.last_note}"[:NOTE_MAX]
    mark.last_first, mark.last_last, mark.last_finished_at, mark.last_note = first, last, at, note


def note_revision(session: Session, first: datetime, last: datetime, at: datetime, note: str) -> None:
    """Plays between ``first`` and ``last`` (segments' starts) are being revised (their segments
    requeued) at ``at``, for the reason ``note``: as after a pass, the finished report periods
    they touch are generated again. Waits for the mark while a pass's batch holds it."""
    mark = _mark(session, wait=True)
    assert mark is not None  # waited for
    _revised(mark, first, last, at, note)
    session.flush()


def rematch_past(factory: sessionmaker[Session], days: float) -> int:
    """The worker's step when its queue is empty: one batch, committed; returns the segments it
    requeued (so that the worker's next cycle comes at once). ``days`` 0 turns it off."""
    if days <= 0:
        return 0
    try:
        with factory() as session:
            requeued = rematch_step(session, days)
            session.commit()
        return requeued or 0
    except Exception:
        log.exception("re-matching failed; retrying later")
        return 0
