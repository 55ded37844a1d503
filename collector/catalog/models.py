"""The society's reference catalog: recordings and their full-track fingerprints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from collector.catalog.folding import fold
from collector.db.base import Base, UTCDateTime, utcnow


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    artist: Mapped[str] = mapped_column(String(500))
    isrc: Mapped[str | None] = mapped_column(String(12), index=True)
    iswc: Mapped[str | None] = mapped_column(String(15))
    album: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(300))
    composer: Mapped[str | None] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float] = mapped_column(Float)
    source_path: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary, doc="shared.codec blob, rate 0")
    # SHA-256 of the audio file the fingerprint was computed from: an unchanged file is not redone
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # where the recording came from: "catalog" (the society's import), or learned from a broadcast
    # cluster a provider or a person named ("audd", "acoustid", "manual"; its fingerprint is then
    # the broadcast's); a later import with the same ISRC takes its place
    source: Mapped[str] = mapped_column(String(16), default="catalog", server_default="catalog")
    release_date: Mapped[str | None] = mapped_column(String(32))
    song_link: Mapped[str | None] = mapped_column(Text)
    provider_ids: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="acoustid, musicbrainz, spotify...")
    # title, artist and label folded for search (collector.catalog.folding), set with them
    title_search: Mapped[str | None] = mapped_column(Text)
    artist_search: Mapped[str | None] = mapped_column(Text)
    label_search: Mapped[str | None] = mapped_column(Text)

    @validates("title", "artist", "label")
    def _fold(self, key: str, value: str | None) -> str | None:
        setattr(self, f"{key}_search", fold(value) if value is not None else None)
        return value
