"""Unmatched music into clusters: the same unknown song, on any station at any time, is one.

After the worker has matched a station's segments and rebuilt its plays, :func:`cluster_station`
looks through the station's unmatched audio since it last did (:class:`UnknownScan`): the
segments that matched nothing and that no play holds, joined while contiguous, are cut into
music spans by :func:`collector.musicness.spans_of_segments` (speech, silence, ads and jingles
shorter than ``recognizers.music_min_s`` are dropped there, and never reach a paid service).

Each span is then matched against the clusters' references with the catalog's own machinery
(:class:`~collector.matching.index.CatalogIndex` and :func:`~collector.matching.matcher.match_values`,
held to the same bit error rate), in chunks of ``CHUNK_S``: a span joins the cluster that most
of its chunks name at a consistent offset (a broadcast of the same song), and grows its
reference when it reaches past it by less than twice what it shares with it; a part reaching
further is cut off and clustered on its own (two songs run together,
:mod:`collector.recognizers.parts`; when it was the same song,
:mod:`collector.recognizers.rejoin` joins the parts once the song is named). A span that
continues a song end to end on the same station (the rest of a learned song's play, its
beginning, or the next part of a song that musicness cut in two) joins that song's cluster and
grows it (:mod:`collector.recognizers.growth`); otherwise it starts a cluster of its own. Music
shorter than a span (down to ``EDGE_MIN_S``) only ever continues a learned song whose provider
said where it ends.

A span still touching the newest matched audio of the station (within ``SETTLE_S``: its newest
audio, or the first segment still waiting to be matched) may grow: it waits for the next
cycle, and the scan's mark stays before it. Nothing here commits.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from collector.db import locks
from collector.fleet.models import Station
from collector.ingest.models import Segment
from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values
from collector.musicness import MIN_MUSIC_S, Piece, Span, spans_of_segments
from collector.recognizers import growth
from collector.recognizers.clusters import UnknownCluster, UnknownScan, UnknownSpan
from collector.recognizers.growth import MAX_REFERENCE_S
from collector.recognizers.learning import requeue_spans
from collector.recognizers.lookups import ask_once_more
from collector.recognizers.parts import foreign, part
from collector.recognizers.revisit import rematch_beside_plays
from collector.recognizers.values import EPOCH, reference_blob, span_values, station_pieces
from shared.chroma import item_duration
from shared.codec import decode

__all__ = ["ClusterIndex", "Clustering", "cluster_station", "load_clusters"]

log = logging.getLogger("collector.recognizers")
# the clusters are every station's: one transaction at a time adds spans to them
CLUSTERING_JOB = locks.job_key("clustering")

SETTLE_S = 60.0  # a span ending this close to the station's newest audio may still grow
LOOKBACK_S = 30.0  # the scan mark stays this far before a span that waits
CHUNK_S = 20.0  # a span is matched to the clusters in chunks of this length
LOOKUP_MIN_S = 30.0  # a cluster is looked up once one of its spans is this long
REMATCH_DAYS = 180.0  # the default of ``matching.rematch_days``
# music shorter than a span, as short as this, next to a learned song's play may be its missing end
EDGE_MIN_S = 8.0


@dataclass
class ClusterIndex:
    """The clusters' references as the matcher sees them (ids are cluster ids)."""

    index: CatalogIndex
    stale: bool = False  # a reference grew since it was loaded: reload before the next place()

    def place(self, values: npt.NDArray[np.uint32]) -> tuple[int, int] | None:
        """The cluster (id) and reference offset (values) the span's chunks agree on, or None."""
        step = round(CHUNK_S / item_duration(0))
        found: list[tuple[int, int]] = []  # (cluster, reference offset of the span's value 0)
        for first in range(0, max(1, values.size - step // 2), step):
            m = match_values(self.index, values[first : first + step])
            if m is not None:
                found.append((m.recording_id, m.offset_values - first))
        # a song repeats itself (a chorus matches the other choruses): the offset most chunks agree
        # on, within the drift of two stations 3 % apart over the span, is the span's place
        slack = max(3, int(0.03 * values.size))
        best: tuple[int, tuple[int, int]] | None = None
        for cluster, offset in found:
            agree = [o for c, o in found if c == cluster and abs(o - offset) <= slack]
            if best is None or len(agree) > best[0]:
                best = (len(agree), (cluster, int(np.median(agree))))
        return best[1] if best is not None else None


@dataclass
class _Heard:
    """One station's unmatched audio being clustered, and the settings it is clustered with."""

    session: Session
    clusters: ClusterIndex
    station: Station
    pieces: Sequence[Piece]
    rematch_days: float
    min_s: float


def load_clusters(session: Session) -> ClusterIndex:
    """Every open cluster's reference (neither named, merged nor rejected)."""
    index = CatalogIndex()
    rows = session.execute(
        select(UnknownCluster.id, UnknownCluster.reference)
        .where(UnknownCluster.merged_into.is_(None), UnknownCluster.recording_id.is_(None))
        .order_by(UnknownCluster.id)
    )
    for cid, blob in rows:
        index.add(cid, decode(blob).values)
    index.build()
    return ClusterIndex(index)


def _horizon(session: Session, station_id: int) -> datetime | None:
    """The end of the station's audio that has been matched: its newest audio, or the start of
    its first segment still waiting to be matched (a backlog is matched in batches, and music
    running on into the next batch is not over yet)."""
    row = session.execute(
        select(Segment.start, Segment.duration)
        .where(Segment.station_id == station_id)
        .order_by(Segment.start.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    waiting = session.scalar(
        select(func.min(Segment.start)).where(
            Segment.station_id == station_id, Segment.status.in_(("new", "claimed"))
        )
    )
    latest: datetime = row[0] + timedelta(seconds=row[1])
    return min(latest, waiting) if waiting is not None else latest


def _known(session: Session, station_id: int, start: datetime, end: datetime) -> bool:
    """Whether a stored span of the station covers most of [start, end) already."""
    rows = session.execute(
        select(UnknownSpan.start, UnknownSpan.end).where(
            UnknownSpan.station_id == station_id, UnknownSpan.start < end, UnknownSpan.end > start
        )
    ).all()
    covered = sum((min(b, end) - max(a, start)).total_seconds() for a, b in rows)
    return covered >= 0.5 * (end - start).total_seconds()


def cluster_station(
    session: Session,
    station_id: int,
    clusters: ClusterIndex | None = None,
    min_s: float = MIN_MUSIC_S,
    final: bool = False,
    rematch_days: float = REMATCH_DAYS,
) -> tuple[ClusterIndex | None, int]:
    """Put the station's new unmatched music into clusters; returns the index (loaded when first
    needed, and kept up to date for the caller's next station) and the spans added.

    With ``final`` (``analyze``: the recording is all there is), no span waits for more audio.
    A learned recording that grows has its plays of the last ``rematch_days`` days revised."""
    station = session.get(Station, station_id)
    latest = _horizon(session, station_id)
    if station is None or latest is None:
        return clusters, 0
    scan = session.get(UnknownScan, station_id)
    since = scan.scanned_to if scan is not None else EPOCH
    pieces = station_pieces(session, station, since)
    cutoff = latest if final else latest - timedelta(seconds=SETTLE_S)
    mark = cutoff - timedelta(seconds=LOOKBACK_S) if not final else latest
    added = 0
    for start, end, span in spans_of_segments(pieces, min(min_s, EDGE_MIN_S)):
        if end > cutoff:
            mark = min(mark, start - timedelta(seconds=LOOKBACK_S))
            continue
        if _known(session, station_id, start, end):
            continue
        if clusters is None or clusters.stale:
            clusters = load_clusters(session)
        heard = _Heard(session, clusters, station, pieces, rematch_days, min_s)
        edge = (end - start).total_seconds() < min_s  # only a learned song's start or end
        added += len(_add_span(heard, start, end, span, edge=edge))
    if scan is None:
        session.add(UnknownScan(station_id=station_id, scanned_to=max(since, mark)))
    else:
        scan.scanned_to = max(since, mark)
    session.flush()
    return clusters, added


def _add_span(
    heard: _Heard,
    start: datetime,
    end: datetime,
    span: Span,
    cut: bool = False,
    at: tuple[int, int] | None = None,
    edge: bool = False,
) -> list[UnknownSpan]:
    """Add the span to a cluster (``at``: this one, at this reference offset); the spans stored.

    A ``cut`` span is a part of one that held two songs (:mod:`collector.recognizers.parts`): it
    is placed, or starts a cluster of its own, and continues no song end to end. An ``edge`` (music shorter
    than a span) is added only where it continues a learned song whose provider said where the
    song starts and ends, up to there: the song's first or last seconds its reference lacks."""
    session, clusters, station = heard.session, heard.clusters, heard.station
    values = span_values(heard.pieces, start, end)
    rate = station.rate_ppm or 0
    t0 = start - timedelta(seconds=span.start)
    row = UnknownSpan(
        station_id=station.id,
        start=start,
        end=end,
        score=span.score,
        rate_ppm=rate,
        excerpt_start=t0 + timedelta(seconds=span.excerpt[0]),
        excerpt_end=t0 + timedelta(seconds=span.excerpt[1]),
        fingerprint=reference_blob(values, rate),
    )
    learned = growth.continued(session, station.id, start, end, not edge) if not cut and at is None else None
    if edge and (learned is None or not growth.bounded(session, learned.cluster)):
        return []
    placed = at or (clusters.place(values) if values.size and learned is None else None)
    split = (
        growth.split(session, station.id, start, end, values)
        if learned is None and placed is None and not cut
        else None
    )
    if placed is not None and at is None:
        parts = foreign(session.get_one(UnknownCluster, placed[0]), values, placed[1], heard.min_s)
        if parts is not None and not _goes_on(heard, start, end, values, placed[0]):
            return _add_parts(heard, start, end, span, parts, placed)  # two songs run together
    if learned is not None or split is not None:  # more of a song heard end to end: it grows
        anchor = learned or split
        assert anchor is not None
        cluster = anchor.cluster
        row.offset_s, before_s, after_s = growth.extend(session, anchor, station, start, end)
        clusters.stale = True
        if cluster.recording_id is not None:  # its earlier plays: to the song's new ends
            rematch_beside_plays(session, cluster.recording_id, before_s, after_s, heard.rematch_days)
    elif placed is None:
        cluster = UnknownCluster(
            first_seen=start, last_seen=end, airtime_s=0.0, spans=0, reference=reference_blob(values)
        )
        session.add(cluster)
        session.flush()
        row.offset_s = 0.0
        clusters.index.add(cluster.id, values)
        clusters.index.build()
    else:
        cluster = session.get_one(UnknownCluster, placed[0])
        reference = cluster.reference
        row.offset_s = _grow(session, cluster, values, placed[1])
        clusters.stale = clusters.stale or cluster.reference != reference
    row.cluster_id = cluster.id
    session.add(row)
    session.flush()
    cluster.first_seen = min(cluster.first_seen, start)
    cluster.last_seen = max(cluster.last_seen, end)
    cluster.airtime_s += (end - start).total_seconds()
    cluster.spans += 1
    if cluster.recording_id is not None:  # a learned song grew: matched now against it
        requeue_spans(session, [cluster.id], [row.id])
    _pick_best(session, cluster, row)
    log.info(
        "unknown music station=%s %s..%s (%.0f s) -> cluster %d (%s)",
        station.slug,
        f"{start:%Y-%m-%d %H:%M:%S}",
        f"{end:%H:%M:%S}",
        row.seconds,
        cluster.id,
        "new" if cluster.spans == 1 else f"{cluster.spans} spans",
    )
    return [row]


def _goes_on(
    heard: _Heard, start: datetime, end: datetime, values: npt.NDArray[np.uint32], cluster_id: int
) -> bool:
    """Whether the span goes on from the station's span of that cluster just before it, through
    little but music (:func:`growth.split`): the same airing of the song, heard further than its
    reference reached, not another song."""
    anchor = growth.split(heard.session, heard.station.id, start, end, values)
    return anchor is not None and anchor.cluster.id == cluster_id


def _add_parts(
    heard: _Heard,
    start: datetime,
    end: datetime,
    span: Span,
    parts: tuple[int, int, int],
    placed: tuple[int, int],
) -> list[UnknownSpan]:
    """The span cut in up to three parts (``head``, ``kept``, ``tail`` values): the kept part in
    the cluster it was placed in, the others each placed anew or a cluster of their own."""
    step, (head, kept, tail) = item_duration(0), parts
    cuts = [start + timedelta(seconds=n * step) for n in (0, head, head + kept)] + [end]
    log.info(
        "unknown music station=%s %s..%s: %.0f s shared with cluster %d, %.0f s before and %.0f s after "
        "it cut off (another song run into it)",
        heard.station.slug,
        f"{start:%Y-%m-%d %H:%M:%S}",
        f"{end:%H:%M:%S}",
        kept * step,
        placed[0],
        head * step,
        tail * step,
    )
    rows: list[UnknownSpan] = []
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        if b <= a:
            continue
        piece = part(span, (a - start).total_seconds(), (b - start).total_seconds())
        at = (placed[0], placed[1] + head) if i == 1 else None
        rows += _add_span(heard, a, b, piece, True, at)
        if heard.clusters.stale:  # a part grew a reference: the next is placed against it
            heard.clusters.index, heard.clusters.stale = load_clusters(heard.session).index, False
    return rows


def _grow(session: Session, cluster: UnknownCluster, values: npt.NDArray[np.uint32], offset: int) -> float:
    """Extend the cluster's reference with the span's values that reach past it (at ``offset``
    values into the reference); return the span's offset in seconds in the (grown) reference."""
    ref = decode(cluster.reference).values
    room = round(MAX_REFERENCE_S / item_duration(0)) - ref.size
    if offset < 0 and room > 0:
        head = values[: min(-offset, room)]
        ref = np.concatenate([head, ref])
        shift = head.size * item_duration(0)
        session.execute(
            update(UnknownSpan)
            .where(UnknownSpan.cluster_id == cluster.id)
            .values(offset_s=UnknownSpan.offset_s + shift)
        )
        offset += head.size
        room -= head.size
    tail = offset + values.size - ref.size
    if tail > 0 and room > 0 and offset >= 0:
        ref = np.concatenate([ref, values[values.size - tail :][:room]])
    cluster.reference = reference_blob(ref)
    return offset * item_duration(0)


def _pick_best(session: Session, cluster: UnknownCluster, new: UnknownSpan) -> None:
    """The span to look up: a long enough one (``LOOKUP_MIN_S``) of the best musicness, else the
    longest, until the lookup has used it; a cluster becomes ready for its lookup once it has a
    long enough span, and one AudD did not know that airs again is asked once more."""
    best = session.get(UnknownSpan, cluster.best_span_id) if cluster.best_span_id else None

    def key(s: UnknownSpan) -> tuple[bool, float]:
        long = s.seconds >= LOOKUP_MIN_S
        return long, s.score if long else s.seconds

    unused = cluster.lookup in ("waiting", "acoustid")
    if best is None or (unused and best.excerpt_request_id is None and key(new) > key(best)):
        cluster.best_span_id = new.id
        best = new
    if cluster.lookup == "waiting" and best.seconds >= LOOKUP_MIN_S:
        cluster.lookup = "acoustid"
    elif cluster.lookup == "not_found" and new.seconds >= LOOKUP_MIN_S:
        ask_once_more(session, cluster, new)


def cluster_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(UnknownCluster)) or 0)


class Clustering:
    """The worker's step after plays: each station's new unmatched music into clusters, in a
    savepoint of its own, so that a failure here never costs the station's matches and plays."""

    def __init__(
        self, min_s: float = MIN_MUSIC_S, final: bool = False, rematch_days: float = REMATCH_DAYS
    ) -> None:
        self.min_s, self.final, self.rematch_days = min_s, final, rematch_days
        self.clusters: ClusterIndex | None = None

    def station(self, session: Session, station_id: int) -> int:
        """Cluster the station's new unmatched music; 0 when another worker is clustering.

        Two workers adding spans to the same clusters (one song aired on their stations) would
        each wait on the other's cluster rows until its cycle commits, and could deadlock: one
        transaction at a time clusters (an advisory lock until its commit). A worker's cycle
        never waits for it: it leaves the station to a later cycle, which starts from the
        station's scan mark, moved only by a clustering that happened. ``analyze`` (``final``)
        waits its turn instead: its recording sends no more audio."""
        if not locks.lock(session, locks.JOB, CLUSTERING_JOB, wait=self.final):
            log.debug("station id=%d: another worker is clustering; next cycle", station_id)
            return 0
        try:
            with session.begin_nested():
                self.clusters, added = cluster_station(
                    session, station_id, self.clusters, self.min_s, self.final, self.rematch_days
                )
            return added
        except Exception:
            self.clusters = None  # it may hold clusters the savepoint rolled back
            log.exception("station id=%d: clustering unknown music failed; retried next cycle", station_id)
            return 0
