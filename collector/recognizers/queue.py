"""The labelling queue: unknown-music clusters for analysts, and their decisions.

Clusters are listed by airtime (the songs that cost the most unpaid royalties first) with their
stations, first and last seen, the lookups' state and the providers' candidates. An analyst:

* **edits** the metadata to accept (:func:`edit`: kept as the ``manual`` candidate, first);
* **accepts** (:func:`accept`): the cluster becomes a learned recording (source ``manual`` when
  a person typed or changed the metadata, else the provider's), or, when a provider already
  named it, the learned recording takes the accepted metadata;
* **rejects** (:func:`reject`) with a reason, ``not_music`` or ``not_in_scope``: a learned
  recording it had is removed with its plays, whose segments are matched again;
* **merges** two clusters that are one song (:func:`merge`).

Every decision is recorded with who and when, on the cluster and in the audit log
(:mod:`collector.fleet.audit`). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.errors import InvalidRequest, NotFound
from collector.fleet import audit
from collector.fleet.models import Station
from collector.formats import iso_z
from collector.ingest.excerpts import ExcerptRequest
from collector.ingest.models import Segment
from collector.matching.models import SegmentMatch
from collector.plays.models import Play, PlayFlag, PlaySegment
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.learning import LEARNED_SOURCES, learn, requeue_spans, retire
from collector.recognizers.outcomes import Candidate

__all__ = [
    "FIELDS",
    "REASONS",
    "Unknown",
    "accept",
    "cluster",
    "edit",
    "excerpt_audio",
    "listing",
    "merge",
    "reject",
]

REASONS = ("not_music", "not_in_scope")
FIELDS = ("title", "artist", "album", "label", "isrc", "release_date", "song_link")


@dataclass
class Unknown:
    """A cluster as the queue shows it."""

    cluster: UnknownCluster
    stations: list[str]
    excerpt: bool  # the collector holds audio of it
    recording: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        c = self.cluster
        return {
            "id": c.id,
            "airtime_s": round(c.airtime_s, 1),
            "spans": c.spans,
            "stations": self.stations,
            "first_seen": iso_z(c.first_seen, "seconds"),
            "last_seen": iso_z(c.last_seen, "seconds"),
            "lookup": c.lookup,
            "lookup_detail": c.lookup_detail,
            "candidates": c.candidates or [],
            "recording": self.recording,
            "decision": c.decision,
            "decision_reason": c.decision_reason,
            "decided_by": c.decided_by,
            "decided_at": iso_z(c.decided_at, "seconds") if c.decided_at else None,
            "merged_into": c.merged_into,
            "excerpt_url": f"/api/v1/unknowns/{c.id}/excerpt" if self.excerpt else None,
        }


def _stored_excerpt(session: Session, cluster_id: int) -> ExcerptRequest | None:
    return session.scalars(
        select(ExcerptRequest)
        .join(UnknownSpan, UnknownSpan.excerpt_request_id == ExcerptRequest.id)
        .where(UnknownSpan.cluster_id == cluster_id, ExcerptRequest.state == "stored")
        .order_by(ExcerptRequest.id.desc())
        .limit(1)
    ).first()


def _unknown(session: Session, c: UnknownCluster) -> Unknown:
    slugs = session.scalars(
        select(Station.slug)
        .join(UnknownSpan, UnknownSpan.station_id == Station.id)
        .where(UnknownSpan.cluster_id == c.id)
        .distinct()
        .order_by(Station.slug)
    ).all()
    rec = session.get(Recording, c.recording_id) if c.recording_id else None
    recording = (
        {
            "id": rec.id,
            "external_id": rec.external_id,
            "title": rec.title,
            "artist": rec.artist,
            "source": rec.source,
        }
        if rec
        else None
    )
    return Unknown(c, list(slugs), _stored_excerpt(session, c.id) is not None, recording)


def listing(
    session: Session, state: str = "open", limit: int = 50, offset: int = 0
) -> tuple[int, list[Unknown]]:
    """Clusters by airtime: ``open`` (no decision yet), ``decided``, or ``all`` (merged ones apart)."""
    where = [UnknownCluster.merged_into.is_(None)]
    if state == "open":
        where.append(UnknownCluster.decision.is_(None))
    elif state == "decided":
        where.append(UnknownCluster.decision.is_not(None))
    elif state != "all":
        raise InvalidRequest("state is open, decided or all")
    total = session.scalar(select(func.count()).select_from(UnknownCluster).where(*where)) or 0
    rows = session.scalars(
        select(UnknownCluster)
        .where(*where)
        .order_by(UnknownCluster.airtime_s.desc(), UnknownCluster.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), [_unknown(session, c) for c in rows]


def cluster(session: Session, cluster_id: int) -> UnknownCluster:
    c = session.get(UnknownCluster, cluster_id)
    if c is None:
        raise NotFound(f"no unknown-music cluster {cluster_id}: see GET /api/v1/unknowns")
    return c


def unknown(session: Session, cluster_id: int) -> Unknown:
    return _unknown(session, cluster(session, cluster_id))


def excerpt_audio(session: Session, cluster_id: int) -> bytes:
    """The Ogg/Opus audio the collector holds for the cluster (the latest excerpt stored)."""
    cluster(session, cluster_id)
    req = _stored_excerpt(session, cluster_id)
    if req is None or req.audio is None:
        raise NotFound(
            f"the collector holds no audio of cluster {cluster_id} (lookup not at AudD yet, or gone)"
        )
    return req.audio


def _decide(c: UnknownCluster, decision: str, actor: str, reason: str | None = None) -> None:
    c.decision, c.decision_reason, c.decided_by, c.decided_at = decision, reason, actor, datetime.now(UTC)


def _open(c: UnknownCluster) -> None:
    if c.merged_into is not None:
        raise InvalidRequest(f"cluster {c.id} was merged into cluster {c.merged_into}: decide there")


def edit(session: Session, c: UnknownCluster, changes: dict[str, str | None], actor: str) -> None:
    """Set the metadata to accept: the ``manual`` candidate, first in the list."""
    _open(c)
    unknown_keys = set(changes) - set(FIELDS)
    if unknown_keys:
        raise InvalidRequest(f"unknown fields {sorted(unknown_keys)}: use {', '.join(FIELDS)}")
    current = _chosen(c) or {}
    manual = {k: current.get(k) for k in FIELDS} | {k: (v or None) for k, v in changes.items()}
    manual["provider"] = "manual"
    c.candidates = [manual] + [x for x in (c.candidates or []) if x.get("provider") != "manual"]
    audit.record(session, actor, "unknown.edit", f"cluster {c.id}", **{k: v for k, v in changes.items()})


def _chosen(c: UnknownCluster) -> dict[str, Any] | None:
    return c.candidates[0] if c.candidates else None


def accept(session: Session, c: UnknownCluster, actor: str) -> Recording:
    """Accept the cluster with its first candidate (a person's edit, else the provider's)."""
    _open(c)
    chosen = _chosen(c)
    if chosen is None or not chosen.get("title") or not chosen.get("artist"):
        raise InvalidRequest(
            f"cluster {c.id} has no title and artist to accept: "
            f"set them first (PATCH /api/v1/unknowns/{c.id})"
        )
    named = Candidate(
        provider=str(chosen.get("provider") or "manual"),
        title=str(chosen["title"]),
        artist=str(chosen["artist"]),
        album=chosen.get("album"),
        label=chosen.get("label"),
        release_date=chosen.get("release_date"),
        isrc=chosen.get("isrc"),
        song_link=chosen.get("song_link"),
        ids=dict(chosen.get("ids") or {}),
    )
    source = named.provider if named.provider in LEARNED_SOURCES else "manual"
    rec = session.get(Recording, c.recording_id) if c.recording_id else None
    if rec is None:
        rec = learn(session, c, named, source)
    elif rec.source in LEARNED_SOURCES:
        for key in ("title", "artist", "album", "label", "release_date", "song_link"):
            if getattr(named, key):
                setattr(rec, key, getattr(named, key))
        rec.isrc = (named.isrc or rec.isrc or None) and str(named.isrc or rec.isrc)[:12]
        if source == "manual":
            rec.source = "manual"
    _decide(c, "accepted", actor)
    audit.record(session, actor, "unknown.accept", f"cluster {c.id}", recording=rec.id, title=rec.title)
    return rec


def reject(session: Session, c: UnknownCluster, reason: str, actor: str) -> None:
    """Not music, or not the society's: never looked up again; a learned recording goes."""
    _open(c)
    if reason not in REASONS:
        raise InvalidRequest(f"reason is {' or '.join(REASONS)}")
    rec = session.get(Recording, c.recording_id) if c.recording_id else None
    if rec is not None and rec.source in LEARNED_SOURCES:
        _forget(session, rec.id)
    c.recording_id, c.retry_at = None, None
    if c.lookup in ("acoustid", "excerpt", "audd", "waiting"):
        c.lookup = "not_found"
        c.lookup_detail = "rejected by an analyst"
    _decide(c, "rejected", actor, reason)
    audit.record(session, actor, "unknown.reject", f"cluster {c.id}", reason=reason)


def _forget(session: Session, recording_id: int) -> None:
    """Remove a learned recording's plays and matches (its segments are unmatched again) and
    retire it."""
    plays = select(Play.id).where(Play.recording_id == recording_id)
    matched = select(SegmentMatch.segment_id).where(SegmentMatch.recording_id == recording_id)
    session.execute(update(Segment).where(Segment.id.in_(matched)).values(status="unmatched"))
    session.execute(delete(PlaySegment).where(PlaySegment.play_id.in_(plays)))
    session.execute(delete(PlayFlag).where(PlayFlag.recording_id == recording_id))
    session.execute(delete(Play).where(Play.recording_id == recording_id))
    session.execute(delete(SegmentMatch).where(SegmentMatch.recording_id == recording_id))
    retire(session, recording_id)


def merge(session: Session, c: UnknownCluster, into: UnknownCluster, actor: str) -> None:
    """``c`` is the same song as ``into``: its spans, airtime and candidates join ``into``."""
    _open(c)
    _open(into)
    if c.id == into.id:
        raise InvalidRequest("a cluster cannot be merged into itself")
    session.execute(update(UnknownSpan).where(UnknownSpan.cluster_id == c.id).values(cluster_id=into.id))
    into.airtime_s += c.airtime_s
    into.spans += c.spans
    into.first_seen, into.last_seen = min(into.first_seen, c.first_seen), max(into.last_seen, c.last_seen)
    into.candidates = (into.candidates or []) + [
        x for x in (c.candidates or []) if x not in (into.candidates or [])
    ]
    if into.recording_id is None and c.recording_id is not None:
        into.recording_id, into.lookup = c.recording_id, "named"
    elif into.recording_id is not None:
        requeue_spans(session, [into.id])  # the merged spans are the learned song's plays too
    c.merged_into, c.retry_at = into.id, None
    _decide(c, "merged", actor)
    audit.record(session, actor, "unknown.merge", f"cluster {c.id}", into=into.id)


def record_ask(session: Session, c: UnknownCluster, actor: str) -> None:
    """A person asked for the cluster to be looked up again (a paid request: on the record)."""
    _open(c)
    audit.record(session, actor, "unknown.lookup", f"cluster {c.id}")
