"""Transactions, and the database a CLI command or the worker opens.

Services never commit: a request commits in its endpoint, a command or a worker cycle in
:func:`transaction`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import upgrade
from collector.settings import CollectorSettings, load


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The commit boundary for CLI commands and workers: commit on success, else roll back."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@dataclass(frozen=True)
class Database:
    """The configured database, open for one command or one worker: its settings and sessions."""

    settings: CollectorSettings
    sessions: sessionmaker[Session]

    def transaction(self) -> AbstractContextManager[Session]:
        return transaction(self.sessions)


@contextmanager
def open_database(
    settings: CollectorSettings | str | Path | None, *, migrate: bool = False
) -> Iterator[Database]:
    """Open the database of ``settings`` (or of the config file at that path; None: the default
    places), migrating it first if asked; the engine is closed on the way out."""
    if not isinstance(settings, CollectorSettings):
        settings = load(settings)
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        yield Database(settings, make_sessionmaker(engine))
    finally:
        engine.dispose()
