"""A span that holds two songs: where to cut it, and its parts.

Two songs a station runs together with no cut musicness can see (a crossfade, a DJ mix) make
one music span. :func:`foreign` says where such a span, placed in a cluster's reference, leaves
it for audio the reference does not hold; :func:`part` makes each piece a span of its own
(:mod:`collector.recognizers.clustering` adds them, :mod:`collector.recognizers.rejoin` makes
the pieces of one song one again once it is named).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from collector.musicness import Span
from collector.recognizers.clusters import UnknownCluster
from shared.chroma import item_duration
from shared.codec import decode

__all__ = ["FOREIGN_SHARE", "foreign", "part"]

# a part of a span past its cluster's reference this many times longer than what it shares with it
# is another song (a crossfade: 160 s placed by its last 40 s in the week benchmark), not the rest
# of a long song first heard in part (186 s past 147 s shared there)
FOREIGN_SHARE = 2.0


def foreign(
    cluster: UnknownCluster, values: npt.NDArray[np.uint32], offset: int, min_s: float
) -> tuple[int, int, int] | None:
    """Where to cut a span placed in the cluster's reference at ``offset`` (values) that is
    mostly audio the reference does not hold: (values before the reference, values shared with
    it, values after it), or None to keep it whole.

    Two songs run together with no cut musicness can see (a crossfade, a DJ mix) make one span;
    its chunks place it by the song the cluster already holds, and growing the reference by the
    rest would make one cluster of both: named after one, the other never looked up, and its
    airtime credited to the wrong song. A part before (after) the reference that is a span's
    worth of music (``min_s``) and more than ``FOREIGN_SHARE`` times as long as what the span
    shares with the reference is cut off; a shorter one is the same song heard further than its
    reference reached, and grows it, as does a span going on from the station's span of the
    cluster just before it (``clustering._goes_on``: one airing that musicness cut at a quiet
    passage)."""
    step = item_duration(0)
    size = decode(cluster.reference).values.size
    head = max(0, min(-offset, values.size))
    tail = max(0, min(offset + values.size - size, values.size - head))
    shared = values.size - head - tail
    cut_head = head * step >= min_s and head > FOREIGN_SHARE * shared
    cut_tail = tail * step >= min_s and tail > FOREIGN_SHARE * shared
    if not (cut_head or cut_tail):
        return None
    return (
        (head if cut_head else 0),
        shared + (0 if cut_head else head) + (0 if cut_tail else tail),
        (tail if cut_tail else 0),
    )


def part(span: Span, a: float, b: float) -> Span:
    """The part of ``span`` from ``a`` to ``b`` seconds into it; its excerpt the span's when it
    lies out of the part's first and last quarter (as musicness picks it), else the part's
    middle 12 s."""
    first, last = span.start + a, span.start + b
    excerpt, length = span.excerpt, span.excerpt[1] - span.excerpt[0]
    quarter = max(0.0, (last - first - length) / 4)
    if not (first + quarter <= excerpt[0] and excerpt[1] <= last - quarter):
        mid = max(first, (first + last - length) / 2)
        excerpt = (mid, mid + length)
    return Span(first, last, span.score, excerpt)
