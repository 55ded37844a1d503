"""The catalog as the matcher sees it: an in-memory snapshot, reloaded when the catalog changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def catalog_version(session: Session) -> tuple[int, datetime | None]:
    return repository.version(session)


def load_catalog(session: Session) -> Catalog:
    index = CatalogIndex()
    durations: dict[int, float] = {}
    refs: dict[int, np.ndarray] = {}
    for rec_id, blob, duration in repository.fingerprints(session):
        values = decode(blob).values
        index.add(rec_id, values)
        refs[rec_id] = values
        durations[rec_id] = duration
    index.build()
    return Catalog(index, durations, refs, catalog_version(session))
