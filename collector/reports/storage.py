"""Where generated reports live: a directory (``report_dir``, the default) or S3-compatible
object storage (``report_storage = "s3"``, :mod:`collector.reports.s3`).

:class:`ReportStorage` is the whole interface a backend needs: the same names (relative POSIX
paths) in both, as files under the directory or as keys under the bucket's prefix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from collector.errors import NotFound
from collector.settings import CollectorSettings


class StorageError(NotFound):
    """A report file that is not (or cannot be) in storage."""


class ReportStorage(Protocol):
    def write(self, name: str, data: bytes) -> None: ...
    def read(self, name: str) -> bytes: ...
    def exists(self, name: str) -> bool: ...
    def local_path(self, name: str) -> Path | None: ...


def check_name(name: str) -> str:
    """Names are relative POSIX paths like ``2026-01/playlist-rfm-2026-01.xlsx``; nothing else."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise StorageError(f"invalid report name {name!r}")
    return name


class DirectoryStorage:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*PurePosixPath(check_name(name)).parts)

    def write(self, name: str, data: bytes) -> None:
        """Atomic: readers see the old file or the new one, never half of one."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(
                f"report file {name!r} is missing from {self.root}; "
                "regenerate it with POST /api/v1/reports/files"
            ) from exc

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def local_path(self, name: str) -> Path | None:
        return self._path(name)


def storage_for(settings: CollectorSettings) -> ReportStorage:
    if settings.report_storage == "s3":
        from collector.reports.s3 import s3_storage  # boto3 only where S3 is used

        return s3_storage(settings)
    return DirectoryStorage(settings.report_dir)
