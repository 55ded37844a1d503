"""What a PostgreSQL table must get back when a migration rebuilds it (partitioned by month,
or plain again): its indexes, constraints, triggers and the sequences its columns own, read
from the catalog before the table is renamed (migrations 0013 and 0014)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class Definition:
    indexes: list[str]
    constraints: list[tuple[str, str, str, list[str]]]  # name, type, definition, columns
    triggers: list[str]
    sequences: list[tuple[str, str]]  # sequence, the column that owns it


def definition(conn: Connection, table: str) -> Definition:
    """Index, constraint and trigger statements of ``table`` (they name it), and the sequences
    its columns own."""
    oid = conn.scalar(text("SELECT to_regclass(:t)::oid"), {"t": table})
    indexes = conn.scalars(
        text(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = :oid "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ),
        {"oid": oid},
    ).all()
    constraints = conn.execute(
        text(
            "SELECT conname, contype, pg_get_constraintdef(oid) AS definition, "
            "ARRAY(SELECT attname FROM unnest(conkey) k JOIN pg_attribute a "
            "ON a.attrelid = conrelid AND a.attnum = k) AS columns "
            "FROM pg_constraint WHERE conrelid = :oid AND contype IN ('p', 'u', 'f', 'c') "
            "ORDER BY contype, conname"
        ),
        {"oid": oid},
    ).all()
    triggers = conn.scalars(
        text("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = :oid AND NOT tgisinternal"),
        {"oid": oid},
    ).all()
    sequences = conn.execute(
        text(
            "SELECT pg_get_serial_sequence(:t, attname) AS sequence, attname FROM pg_attribute "
            "WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped "
            "AND pg_get_serial_sequence(:t, attname) IS NOT NULL"
        ),
        {"oid": oid, "t": table},
    ).all()
    return Definition(
        # a partitioned table's own index reads ON ONLY: made again on the table, for all of it
        indexes=[i.replace(" ON ONLY ", " ON ") for i in indexes],
        constraints=[(c.conname, c.contype, c.definition, list(c.columns)) for c in constraints],
        triggers=list(triggers),
        sequences=[(r.sequence, r.attname) for r in sequences],
    )


def key_definition(contype: str, columns: list[str], key: str, partition: bool) -> str:
    """A primary key or unique constraint, with the partition key ``key`` (``partition``) or
    without it."""
    names = [c for c in columns if c != key] + ([key] if partition else [])
    kind = "PRIMARY KEY" if contype == "p" else "UNIQUE"
    return f"{kind} ({', '.join(quote(c) for c in names)})"


def quote(name: str) -> str:
    return f'"{name}"'


def move_sequences(conn: Connection, table: str, definition: Definition) -> None:
    """The old table's sequences now belong to the rebuilt ``table`` (before the old one is
    dropped, which would drop them)."""
    for name, column in definition.sequences:
        conn.execute(text(f'ALTER SEQUENCE {name} OWNED BY "{table}"."{column}"'))


def restore(conn: Connection, table: str, definition: Definition, key: str, partition: bool) -> None:
    """Give the rebuilt ``table`` its constraints (primary and unique keys with the partition
    key or without it), indexes and triggers back, then ANALYZE it."""
    for name, contype, condef, columns in definition.constraints:
        if contype in ("p", "u"):
            condef = key_definition(contype, columns, key, partition)
        conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {condef}'))
    for statement in definition.indexes + definition.triggers:
        conn.execute(text(statement))
    conn.execute(text(f'ANALYZE "{table}"'))
