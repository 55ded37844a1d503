"""Catalog import: CSV rows → fingerprinted recordings, idempotent by ``external_id``.

One unreadable file or bad row never aborts a batch: it is reported and skipped. An unchanged
file (same SHA-256) is not fingerprinted again; changed metadata is simply updated. Every
field is checked against what the database holds (lengths, a 12-character ISRC, a four-digit
year, no NUL character) before anything is written, so a row fails alone on PostgreSQL and
SQLite alike; only regular files are opened, and a file that decodes to much less audio than
its header announces is refused as truncated.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from collector.audio import AudioError, declared_seconds, decode_file
from collector.catalog import repository
from collector.catalog.models import Recording
from collector.errors import InvalidRequest
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm
from shared.codec import FingerprintSegment, encode

REQUIRED = ("path", "external_id", "title", "artist")
OPTIONAL = ("isrc", "iswc", "album", "label", "composer", "publisher", "year")
_EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")  # CC-XXX-YY-NNNNN without its dashes
MIN_YEAR, MAX_YEAR = 1000, 9999
# a file whose audio stops this far short of the duration its header announces is truncated
TRUNCATED_BELOW = 0.9


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
    pcm = decode_file(_regular(path))
    seconds = pcm.size / CHROMAPRINT_RATE
    declared = declared_seconds(path)
    if declared is not None and seconds < declared * TRUNCATED_BELOW:
        raise AudioError(
            f"{path}: truncated: {seconds:.1f} s of audio decoded where its header announces "
            f"{declared:.1f} s; re-export the file"
        )
    values = fingerprint_pcm(pcm, CHROMAPRINT_RATE)
    blob = encode(FingerprintSegment(values, _EPOCH_ZERO, CHROMAPRINT_RATE, int(pcm.size)))
    return blob, seconds


def _regular(path: Path) -> Path:
    """Only a regular file is read: a device (/dev/zero) or a fifo would never end."""
    if not path.is_file():
        raise AudioError(f"{path} is not a regular file: name an audio file")
    return path


def read_rows(csv_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a catalog CSV with their line numbers; a file that is not UTF-8 text, or not a
    CSV the reader can parse, is a :class:`CatalogError` naming the line."""
    line = 1
    try:
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
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"{csv_path}: line {line + 1} is not UTF-8 text ({exc.reason}); save the file as UTF-8 "
            "(in a spreadsheet: CSV UTF-8) and import it again; nothing was imported"
        ) from None
    except csv.Error as exc:
        raise CatalogError(
            f"{csv_path}: line {line + 1} cannot be read as CSV ({exc}); nothing was imported"
        ) from None


def _length(key: str) -> int | None:
    column = Recording.__table__.c[key]
    return getattr(column.type, "length", None)


def _text(key: str, value: str) -> str:
    if "\x00" in value:
        raise ValueError(f"{key} holds a NUL character")
    limit = _length(key)
    if limit is not None and len(value) > limit:
        raise ValueError(f"{key} is longer than {limit} characters ({len(value)})")
    return value


def check_external_id(external_id: str) -> str:
    return _text("external_id", external_id)


def row_metadata(row: dict[str, str]) -> dict[str, object]:
    """A catalog row's metadata, normalised (ISRC upper-case without dashes, year an int) and
    checked against what the database holds; a ``ValueError`` says which field is wrong.

    Shared by the CSV import and the admin API, so both store the same values.
    """
    meta: dict[str, object] = {
        "title": _text("title", row["title"]),
        "artist": _text("artist", row["artist"]),
    }
    for key in OPTIONAL:
        value = row.get(key) or None
        if key == "year" and value is not None:
            if not value.isdigit() or not MIN_YEAR <= int(value) <= MAX_YEAR:
                raise ValueError(f"year {value[:20]!r} is not a year of four digits, e.g. 2021")
            meta[key] = int(value)
        elif key == "isrc" and value is not None:
            isrc = value.replace("-", "").upper()
            if not _ISRC.match(isrc):
                raise ValueError(f"isrc {value[:40]!r} is not an ISRC: 12 characters, e.g. FR-X45-21-00101")
            meta[key] = isrc
        else:
            meta[key] = _text(key, value) if value is not None else None
    return meta


def upsert_recording(session: Session, external_id: str, path: Path, meta: dict[str, object]) -> str:
    """Add or update one recording; return "added", "updated" or "unchanged"."""
    digest = sha256_file(_regular(path))
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


def upload_external_id(external_id: str) -> str:
    """The external id of a recording sent to the API, checked as a CSV row's would be."""
    try:
        return check_external_id(external_id.strip())
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
    first_line: dict[str, int] = {}
    for n, (line, row) in enumerate(rows, start=1):
        ext = row.get("external_id", "")
        if progress:
            progress(n, len(rows), ext)
        if not ext or not row.get("path") or not row.get("title") or not row.get("artist"):
            report.failed.append((line, ext, "path, external_id, title and artist are required"))
            continue
        if ext in first_line:
            report.failed.append(
                (line, ext, f"external_id {ext} is already on line {first_line[ext]}: one row per recording")
            )
            continue
        first_line[ext] = line
        path = Path(row["path"])
        if not path.is_absolute():
            path = csv_path.parent / path
        try:
            meta = row_metadata(row)
            outcome = upsert_recording(session, check_external_id(ext), path, meta)
            session.flush()
        except (AudioError, OSError, ValueError) as exc:
            session.rollback()
            report.failed.append((line, ext, str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        if commit:
            commit()
    return report
