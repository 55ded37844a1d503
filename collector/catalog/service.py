"""Catalog import: CSV rows → fingerprinted recordings, idempotent by ``external_id``.

One unreadable file never aborts a batch: it is reported and skipped. An unchanged file
(same SHA-256) is not fingerprinted again; changed metadata is simply updated.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from collector.audio import AudioError, decode_file
from collector.catalog import repository
from collector.catalog.models import Recording
from collector.errors import InvalidRequest
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm
from shared.codec import FingerprintSegment, encode

REQUIRED = ("path", "external_id", "title", "artist")
OPTIONAL = ("isrc", "iswc", "album", "label", "composer", "publisher", "year")
_EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)


class CatalogError(InvalidRequest):
    """A catalog file, row or audio file that cannot be imported; the message says why."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (line, external_id, why)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.failed)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprint_file(path: Path) -> tuple[bytes, float]:
    """The codec blob (rate 0) of a whole file, and its duration in seconds."""
    pcm = decode_file(path)
    values = fingerprint_pcm(pcm, CHROMAPRINT_RATE)
    blob = encode(FingerprintSegment(values, _EPOCH_ZERO, CHROMAPRINT_RATE, int(pcm.size)))
    return blob, pcm.size / CHROMAPRINT_RATE


def read_rows(csv_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with csv_path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogError(
                f"{csv_path}: missing column(s) {', '.join(missing)}; "
                f"required: {','.join(REQUIRED)}; optional: {','.join(OPTIONAL)}"
            )
        for line, row in enumerate(reader, start=2):
            yield line, {k: (v or "").strip() for k, v in row.items() if k}


def row_metadata(row: dict[str, str]) -> dict[str, object]:
    """A catalog row's metadata, normalised (ISRC upper-case without dashes, year an int).

    Shared by the CSV import and the admin API, so both store the same values.
    """
    meta: dict[str, object] = {"title": row["title"], "artist": row["artist"]}
    for key in OPTIONAL:
        value = row.get(key) or None
        if key == "year" and value is not None:
            if not value.isdigit():
                raise ValueError(f"year {value!r} is not a whole number, e.g. 2021")
            meta[key] = int(value)
        elif key == "isrc" and value is not None:
            meta[key] = value.replace("-", "").upper()
        else:
            meta[key] = value
    return meta


def upsert_recording(session: Session, external_id: str, path: Path, meta: dict[str, object]) -> str:
    """Add or update one recording; return "added", "updated" or "unchanged"."""
    digest = sha256_file(path)
    rec = repository.recording(session, external_id)
    if rec is not None and rec.fingerprint_sha256 == digest:
        changed = any(getattr(rec, k) != v for k, v in meta.items())
        for k, v in meta.items():
            setattr(rec, k, v)
        return "updated" if changed else "unchanged"
    blob, duration = fingerprint_file(path)
    if rec is None:
        session.add(
            Recording(
                external_id=external_id,
                duration=duration,
                source_path=str(path),
                fingerprint=blob,
                fingerprint_sha256=digest,
                **meta,
            )
        )
        return "added"
    rec.fingerprint, rec.fingerprint_sha256, rec.duration, rec.source_path = blob, digest, duration, str(path)
    for k, v in meta.items():
        setattr(rec, k, v)
    return "updated"


def upload_metadata(row: dict[str, str]) -> dict[str, object]:
    """The metadata of a recording sent to the API, normalised as a CSV row's would be."""
    try:
        return row_metadata(row)
    except ValueError as exc:
        raise CatalogError(f"bad field: {exc}") from exc


def put_recording(
    session: Session, external_id: str, path: Path, meta: dict[str, object], source: str
) -> tuple[str, Recording]:
    """Add or update one recording from an uploaded file; ``source`` is recorded as its origin.

    Returns the outcome ("added", "updated" or "unchanged") and the recording.
    """
    try:
        outcome = upsert_recording(session, external_id, path, meta)
        session.flush()
    except (AudioError, OSError) as exc:
        raise CatalogError(f"cannot read the audio: {exc}; nothing was stored") from exc
    rec = repository.recording(session, external_id)
    assert rec is not None
    rec.source_path = source
    return outcome, rec


def import_csv(
    session: Session,
    csv_path: Path,
    progress: Callable[[int, int, str], None] | None = None,
    commit: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every row; ``commit`` is called after each row so a crash keeps what was done."""
    rows = list(read_rows(csv_path))
    report = ImportReport()
    for n, (line, row) in enumerate(rows, start=1):
        ext = row.get("external_id", "")
        if progress:
            progress(n, len(rows), ext)
        if not ext or not row.get("path") or not row.get("title") or not row.get("artist"):
            report.failed.append((line, ext, "path, external_id, title and artist are required"))
            continue
        path = Path(row["path"])
        if not path.is_absolute():
            path = csv_path.parent / path
        try:
            meta = row_metadata(row)
            outcome = upsert_recording(session, ext, path, meta)
            session.flush()
        except (AudioError, OSError, ValueError) as exc:
            session.rollback()
            report.failed.append((line, ext, str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        if commit:
            commit()
    return report
