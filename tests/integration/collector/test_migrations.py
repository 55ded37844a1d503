"""The schema comes from Alembic alone, identically on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from collector.models import Base, Station


def test_migrations_create_every_model_table(database_url: str, backend: str) -> None:
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert engine.dialect.name == backend
    engine.dispose()


def test_datetimes_come_back_aware_utc(database_url: str) -> None:
    engine = create_engine(database_url)
    dakar_noon = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=0)))
    paris = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as s:
        s.add(Station(slug="a", name="A", created_at=paris))
        s.add(Station(slug="b", name="B", created_at=dakar_noon))
        s.commit()
    with Session(engine) as s:
        got = {st.slug: st.created_at for st in s.scalars(select(Station))}
    assert got["a"] == got["b"] == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert got["a"].tzinfo is not None
    engine.dispose()
