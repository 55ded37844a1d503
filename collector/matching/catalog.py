"""The catalog as the matcher sees it: an in-memory snapshot, reloaded when the catalog changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np
from sqlalchemy.orm import Session

from collector.catalog import repository
from collector.matching.index import CatalogIndex
from shared.codec import decode


@dataclass
class Catalog:
    index: CatalogIndex
    durations: dict[int, float]
    refs: dict[int, np.ndarray]
    version: tuple[int, datetime | None]
    # recordings whose reference is a broadcast capture of part of a song (learned from unknown
    # music): what a chorus repeated past that part aligns with is no evidence of a new play
    learned: frozenset[int] = frozenset()

    @cached_property
    def masters(self) -> dict[int, np.ndarray]:
        """The references that are not learned: the society's own masters, what the play
        assembly's sequential test may name a faint run as (computed once per snapshot)."""
        return {rid: ref for rid, ref in self.refs.items() if rid not in self.learned}


def catalog_version(session: Session) -> tuple[int, datetime | None]:
    return repository.version(session)


def load_catalog(session: Session) -> Catalog:
    index = CatalogIndex()
    durations: dict[int, float] = {}
    refs: dict[int, np.ndarray] = {}
    learned: set[int] = set()
    for rec_id, blob, duration, is_learned in repository.fingerprints(session):
        if is_learned:
            learned.add(rec_id)
        values = decode(blob).values
        index.add(rec_id, values)
        refs[rec_id] = values
        durations[rec_id] = duration
    index.build()
    return Catalog(index, durations, refs, catalog_version(session), frozenset(learned))
