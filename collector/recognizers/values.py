"""A station's fingerprint values over a stretch of time, as the clusters keep them.

Clustering reads a station's unmatched segments (:func:`station_pieces` with ``unmatched``),
and a growing reference reads all of them, matched or not, between the end of what it holds
and a new span (:func:`station_values`): the values are taken at the station's rate variant,
timed by :func:`span_values`, and kept as a :mod:`shared.codec` blob (:func:`reference_blob`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.fleet.models import Station
from collector.ingest.models import Segment
from collector.musicness import Piece
from collector.plays.models import Play
from shared.chroma import CHROMAPRINT_RATE, item_duration
from shared.codec import FingerprintSegment, decode, encode

__all__ = ["EPOCH", "reference_blob", "span_values", "station_pieces", "station_values"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEGMENT_MARGIN = timedelta(seconds=30)  # a segment starting this long before a time may hold it


def reference_blob(values: npt.NDArray[np.uint32], rate_ppm: int = 0) -> bytes:
    n_samples = round(values.size * item_duration(0) * CHROMAPRINT_RATE)
    return encode(FingerprintSegment(values.astype(np.uint32), EPOCH, CHROMAPRINT_RATE, n_samples, rate_ppm))


def span_values(pieces: Sequence[Piece], start: datetime, end: datetime) -> npt.NDArray[np.uint32]:
    """The values of ``pieces`` (contiguous, one variant) timed within [start, end)."""
    out = []
    for p in pieces:
        t = np.array([(p.start - start).total_seconds() + i * p.step_s for i in range(p.values.size)])
        out.append(p.values[(t >= 0) & (t < (end - start).total_seconds())])
    return np.concatenate(out).astype(np.uint32) if out else np.zeros(0, dtype=np.uint32)


def station_pieces(
    session: Session,
    station: Station,
    since: datetime,
    until: datetime | None = None,
    unmatched: bool = True,
) -> list[Piece]:
    """The station's segments starting in [since, until), at its rate's variant; with
    ``unmatched``, only those that matched nothing and that no play holds."""
    stmt = select(Segment).where(Segment.station_id == station.id, Segment.start >= since)
    if until is not None:
        stmt = stmt.where(Segment.start < until)
    plays: list[tuple[datetime, datetime]] = []
    if unmatched:
        stmt = stmt.where(Segment.status == "unmatched")
        plays = [
            (a, b)
            for a, b in session.execute(
                select(Play.start, Play.end).where(Play.station_id == station.id, Play.end > since)
            )
        ]
    rate = station.rate_ppm or 0
    pieces = []
    for seg in session.scalars(stmt.order_by(Segment.start, Segment.id)):
        middle = seg.start + timedelta(seconds=seg.duration / 2)
        if any(a <= middle < b for a, b in plays):
            continue
        fps = {f.rate_ppm: f for f in seg.fingerprints}
        fp = fps.get(rate) or fps.get(0) or next(iter(fps.values()), None)
        if fp is None:
            continue
        values = decode(fp.data).values
        pieces.append(Piece(seg.start, seg.duration, seg.level_dbfs, values, item_duration(fp.rate_ppm)))
    return pieces


def station_values(
    session: Session, station: Station, start: datetime, end: datetime
) -> npt.NDArray[np.uint32]:
    """Every value the station's segments hold between ``start`` and ``end``, matched or not."""
    if end <= start:
        return np.zeros(0, dtype=np.uint32)
    pieces = station_pieces(session, station, start - _SEGMENT_MARGIN, end, unmatched=False)
    return span_values(pieces, start, end)
