"""The session of one HTTP request (a FastAPI dependency).

Apart from :mod:`collector.db.session` so that a CLI command does not import the web stack.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the endpoint commits, anything else rolls back."""
    with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
