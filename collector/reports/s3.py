"""Report files in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage, ...).

Each report name (``2026-01/playlist-rfm-2026-01.xlsx``) is a key under ``report_s3.prefix``
in ``report_s3.bucket``. A PUT is atomic in S3: readers see the old object or the new one,
never half of one, as with the directory backend.

boto3, not a small signed-request client of our own: request signing (SigV4 with its
canonical forms), retries with back-off and the many S3 dialects' quirks are what boto3 is
for, and an error there would only show against a real service. It is an extra
(``sodav-monitor[collector,s3]``, ~80 MB) that only a collector writing to S3 installs; it is
imported when the backend is first used.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from collector.errors import CollectorError
from collector.reports.storage import StorageError, check_name
from collector.settings import CollectorSettings


class S3Unavailable(CollectorError):
    """The object storage cannot be used (not installed, refused, unreachable): the message says why."""

    status = 503


class S3Storage:
    def __init__(self, settings: CollectorSettings) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise S3Unavailable(
                "report_storage = s3 needs boto3: pip install 'sodav-monitor[collector,s3]' "
                "(or set report_storage = directory)"
            ) from None
        s3 = settings.report_s3
        if not s3.bucket:
            raise S3Unavailable("report_storage = s3 needs report_s3.bucket")
        access, secret = settings.s3_credentials()
        self.bucket = s3.bucket
        self.prefix = s3.prefix.strip("/") + "/" if s3.prefix.strip("/") else ""
        self.errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=s3.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            config=Config(
                s3={"addressing_style": "path" if s3.path_style else "virtual"},
                connect_timeout=s3.timeout_s,
                read_timeout=s3.timeout_s,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def _where(self, name: str) -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def write(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)
        except self.errors as exc:
            raise S3Unavailable(f"cannot write {self._where(name)}: {exc}") from exc

    def read(self, name: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
            return body
        except self.errors as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise StorageError(
                    f"report file {name!r} is missing from {self._where(name)}; "
                    "regenerate it with POST /api/v1/reports/files"
                ) from exc
            raise S3Unavailable(f"cannot read {self._where(name)}: {exc}") from exc

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
            return True
        except self.errors as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return False
            raise S3Unavailable(f"cannot look for {self._where(name)}: {exc}") from exc

    def local_path(self, name: str) -> Path | None:
        return None


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


_clients: dict[str, S3Storage] = {}
_lock = threading.Lock()


def s3_storage(settings: CollectorSettings) -> S3Storage:
    """One client per process and configuration (building one costs tens of milliseconds)."""
    key = settings.report_s3.model_dump_json()
    with _lock:
        if key not in _clients:
            _clients[key] = S3Storage(settings)
        return _clients[key]
