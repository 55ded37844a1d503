"""Alembic environment: the URL comes from the caller (collector.db.migrate) or settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool, text

from collector.db import locks
from collector.db.engine import make_engine
from collector.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from collector.settings import load

    return load().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = make_engine(_url(), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # several processes starting at once (serve instances behind a proxy, workers):
                # one migrates, the others wait for it and then find nothing left to do
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:s, :k)"),
                    {"s": locks.JOB, "k": locks.job_key("migrations")},
                )
            context.run_migrations()
    connectable.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
