"""The audit log: who did what, when, to which station, agent, user, play or report.

Every administrative action records one entry in its own transaction, whether it came through
the API (the actor is the user's name) or the server's shell (``cli:<unix user>``, see
:func:`cli_actor`), so the two paths leave the same trace. Tokens and codes are never recorded.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.fleet.models import AuditEntry


def record(session: Session, actor: str, action: str, target: str, **detail: Any) -> AuditEntry:
    entry = AuditEntry(at=datetime.now(UTC), actor=actor, action=action, target=target, detail=detail or None)
    session.add(entry)
    return entry


def cli_actor() -> str:
    """The actor of a command run in the server's shell: ``cli:`` and the Unix user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return "cli:?"


def entries(session: Session, limit: int = 100, target: str | None = None) -> list[AuditEntry]:
    """The latest entries first (optionally about one target)."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if target is not None:
        stmt = stmt.where(AuditEntry.target == target)
    return list(session.scalars(stmt))
