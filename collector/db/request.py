"""The session of one HTTP request (a FastAPI dependency).

Apart from :mod:`collector.db.session` so that a CLI command does not import the web stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Path, Request
from sqlalchemy.orm import Session

__all__ = ["MAX_BIG_ID", "MAX_ROW_ID", "BigRowId", "RowId", "get_session"]

# An id in a path, within its column's range: past it the database refuses the query itself
# (PostgreSQL: "integer out of range"), so the request is answered 422 before any query.
# (in a body, use ``Field(ge=1, le=MAX_ROW_ID)`` the same way)
MAX_ROW_ID = 2**31 - 1  # Integer primary keys
MAX_BIG_ID = 2**63 - 1  # BigId primary keys (collector.db.base)
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="an id from a listing")]
BigRowId = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="an id from a listing")]


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the endpoint commits, anything else rolls back."""
    with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
