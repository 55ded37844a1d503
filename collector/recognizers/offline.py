"""Unknown music in ``sodav-collector analyze``: the live path, with the audio from the files.

After the recordings' segments are matched and their plays assembled, their unmatched music
is put into clusters (:class:`~collector.recognizers.clustering.Clustering`, every span final:
the files are all there is), and, when a recognizer is configured, each cluster is looked up
the way the worker does it (:class:`~collector.recognizers.lookups.Lookups`: AcoustID, then
AudD), except that AudD's 12 s are cut from the analysed file itself instead of being asked of
an agent. What is named becomes a learned recording, and its segments go back to the queue for
``analyze`` to match again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collector.recognizers.clustering import Clustering
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.lookups import ACTIVE, Lookups
from collector.recognizers.service import Recognizers
from collector.settings import CollectorSettings, ConfigError

__all__ = ["FilePart", "name_unknowns"]

log = logging.getLogger("collector.recognizers")
MAX_PASSES = 10  # a cluster takes 3 steps (AcoustID, the cut, AudD); retries wait for another run


@dataclass(frozen=True)
class FilePart:
    path: Path
    start: datetime
    end: datetime


def _cut(files: list[FilePart]):  # type: ignore[no-untyped-def]
    def cut(span: UnknownSpan) -> tuple[Path, float] | None:
        for f in files:
            if f.start <= span.excerpt_start < f.end:
                return f.path, (span.excerpt_start - f.start).total_seconds()
        return None

    return cut


def name_unknowns(
    sessions: sessionmaker[Session], settings: CollectorSettings, station_id: int, files: list[FilePart]
) -> tuple[int, int]:
    """Cluster the station's unmatched music and look the clusters up; returns (clusters, named)."""
    with sessions() as session:
        Clustering(
            settings.recognizers.music_min_s, final=True, rematch_days=settings.matching.rematch_days
        ).station(session, station_id)
        session.commit()
        ids = list(
            session.scalars(
                select(UnknownSpan.cluster_id).where(UnknownSpan.station_id == station_id).distinct()
            )
        )
    try:
        configured = settings.acoustid_key_value() or settings.audd_token_value()
    except ConfigError as exc:
        log.error("recognizers off: %s", exc)
        configured = None
    if configured is None or not ids:
        return len(ids), 0
    with Recognizers(settings, sessions) as recognizers:
        lookups = Lookups(sessions, recognizers, batch=len(ids), cut=_cut(files))
        for _ in range(MAX_PASSES):
            if not lookups.tick(only=ids):
                break
    with sessions() as session:
        named = session.scalars(
            select(UnknownCluster.id).where(UnknownCluster.id.in_(ids), UnknownCluster.lookup == "named")
        ).all()
        waiting = session.scalars(
            select(UnknownCluster.id).where(UnknownCluster.id.in_(ids), UnknownCluster.lookup.in_(ACTIVE))
        ).all()
    if waiting:
        log.warning(
            "%d unknown song(s) still waiting for a lookup (a retry, a budget): run again later", len(waiting)
        )
    return len(ids), len(named)
