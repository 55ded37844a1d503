"""Advisory locks: what several collector processes on one PostgreSQL database take turns at.

A lock here is a PostgreSQL *transaction* advisory lock: it is held until the transaction that
took it commits or rolls back, so a crash never leaves one behind. On SQLite there is one
writer at a time anyway (and one worker, :mod:`collector.worker`): every lock is granted at once.

Keys are two 32-bit integers, a namespace and an id, so the stations' locks never collide with
the named jobs' (see :data:`STATION` and :func:`job_key`).
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.orm import Session

STATION = 0x534F  # "SO": one lock per station, around its share of a matching cycle
JOB = 0x4A42  # "JB": one lock per named job (the reports' ticker, ...)


def job_key(name: str) -> int:
    """A job's id in the ``JOB`` namespace, stable across processes and releases."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def lock(session: Session, space: int, key: int, wait: bool = True) -> bool:
    """Take the lock ``(space, key)`` until the session's transaction ends; with ``wait=False``
    give up at once if another transaction holds it. True when this transaction holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:s, :k)"), {"s": space, "k": key})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:s, :k)"), {"s": space, "k": key}))
