"""Queries on the catalog's recordings. Nothing here commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from collector.catalog.folding import fold
from collector.catalog.models import Recording


def recording(session: Session, external_id: str) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.external_id == external_id))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Recording)) or 0)


def first(session: Session, limit: int) -> list[Recording]:
    """The first recordings by external id."""
    return list(session.scalars(select(Recording).order_by(Recording.external_id).limit(limit)))


def search(session: Session, q: str | None, limit: int, offset: int) -> tuple[int, list[Recording]]:
    """Recordings whose title, artist, ISRC or external id contain ``q`` (any case; accents
    ignored in title and artist): how many in all, and one page of them by external id."""
    query = select(Recording)
    if q:
        like = f"%{q.strip()}%"
        folded = f"%{fold(q.strip())}%"
        query = query.where(
            or_(
                Recording.title_search.like(folded),
                Recording.artist_search.like(folded),
                Recording.isrc.ilike(like),
                Recording.external_id.ilike(like),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Recording.external_id).limit(limit).offset(offset))
    return total, list(rows)


def version(session: Session) -> tuple[int, datetime | None]:
    """How many recordings and when one last changed: a new value means the catalog changed."""
    row = session.execute(select(func.count(Recording.id), func.max(Recording.updated_at))).one()
    return int(row[0]), row[1]


# a learned recording merged into an import, or rejected, that reports still name: never matched
RETIRED = "retired"


def fingerprints(session: Session) -> Iterator[tuple[int, bytes, float, bool]]:
    """Every recording's (id, fingerprint blob, duration, learned), by id: ``learned`` when its
    reference is a broadcast capture named by a service or a person, not an imported master."""
    stmt = (
        select(Recording.id, Recording.fingerprint, Recording.duration, Recording.source != "catalog")
        .where(Recording.source != RETIRED)
        .order_by(Recording.id)
    )
    yield from session.execute(stmt)  # rows are tuples (Result.tuples() is deprecated in SQLAlchemy 2.1)
