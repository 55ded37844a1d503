"""Name claimed segments against the catalog snapshot and store what was found.

Used by the worker on live uploads and by ``analyze`` on recordings: one code path.
Services never commit; the worker and the CLI commit at their task boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from collector.ingest.models import Segment
from collector.matching import repository
from collector.matching.catalog import Catalog
from collector.matching.matcher import match_variants
from collector.matching.models import SegmentMatch
from shared.codec import decode


def match_segments(
    session: Session,
    catalog: Catalog,
    segments: Sequence[Segment],
    progress: Callable[[int, int, str], None] | None = None,
) -> int:
    """Match each segment, store the result and its status; return how many matched."""
    matched = 0
    # what an earlier pass found (re-matching the past, a quarantined segment let back in):
    # one statement for the lot, not one per segment
    repository.forget_matches(session, segments)
    for n, seg in enumerate(segments, start=1):
        if progress is not None:
            progress(n, len(segments), "matching")
        fps = [decode(f.data) for f in seg.fingerprints]
        m = match_variants(catalog.index, [(fp.rate_ppm, fp.values) for fp in fps])
        if m is None:
            seg.status = "unmatched"
            continue
        fp = next(f for f in fps if f.rate_ppm == m.rate_ppm)
        session.add(
            SegmentMatch(
                segment_id=seg.id,
                segment_start=seg.start,
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
