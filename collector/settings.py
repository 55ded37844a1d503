"""The collector's configuration: one typed object, validated at start-up.

Sources: ``/etc/sodav-collector/collector.toml`` (or ``--config`` / ``SODAV_COLLECTOR_CONFIG``),
then ``SODAV_COLLECTOR_*`` variables (nested keys joined by ``__``). Secrets come from files
(``*_file`` keys) or systemd credentials; placeholder secrets are refused in production.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from shared.config import ConfigError, load_settings, read_secret

__all__ = ["DEFAULT_DATABASE_URL", "ENV_PREFIX", "CollectorSettings", "ConfigError", "load"]

ENV_PREFIX = "SODAV_COLLECTOR_"
DEFAULT_CONFIG_PATH = Path("/etc/sodav-collector/collector.toml")
DEFAULT_DATABASE_URL = "sqlite:///sodav-collector.db"
_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "xxx", "todo"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecognizerSettings(_Section):
    acoustid_url: str = "https://api.acoustid.org/v2/lookup"
    acoustid_key: SecretStr | None = None
    acoustid_key_file: Path | None = None
    audd_url: str = "https://api.audd.io/"
    audd_token: SecretStr | None = None
    audd_token_file: Path | None = None
    # What a paid lookup may cost: requests a day per service (counted in the database, so
    # every process shares them) and the list price per 1000 requests, for the month's cost.
    acoustid_daily_budget: int = Field(default=5000, ge=0)
    audd_daily_budget: int = Field(default=500, ge=0)
    acoustid_usd_per_1000: float = Field(default=0.0, ge=0)
    audd_usd_per_1000: float = Field(default=2.0, ge=0)
    timeout_s: float = Field(default=30.0, gt=0)
    # an unmatched stretch with less music than this is speech, an ad or a jingle: never sent
    music_min_s: float = Field(default=20.0, ge=12.0)


class WorkerSettings(_Section):
    enabled: bool = True
    batch_size: int = Field(default=200, ge=1, le=10_000)
    poll_interval_s: float = Field(default=1.0, gt=0)
    # fingerprint values matched per cycle: a cycle stops claiming once this many are in hand
    max_values_per_cycle: int = Field(default=500_000, ge=1_000, le=100_000_000)


class MatchingSettings(_Section):
    """Matching the past: when recordings join the catalog, the unmatched audio of this many days
    is looked through for them (collector/matching/rematch.py)."""

    rematch_days: float = Field(default=180.0, ge=0, le=3660)


class IngestSettings(_Section):
    """The times an upload may carry, around the collector's clock (refused outside: 422)."""

    max_age_days: int = Field(default=366, ge=1, le=3650)
    max_ahead_s: float = Field(default=600.0, ge=0, le=86_400)


class RetentionSettings(_Section):
    """How long raw audio is kept (docs/ops/partitions.md). Segments, their fingerprints and
    matches older than ``segments_months`` whole calendar months are deleted (on PostgreSQL:
    their monthly partitions dropped); never sooner than ``matching.rematch_days`` allows.
    Plays, their evidence rows and events are kept forever. ``partitions_ahead``: the months
    after the current one whose partitions upkeep creates in advance (PostgreSQL).
    ``heartbeats_days``: how long the agents' heartbeats are kept (each agent's latest stays)."""

    segments_months: int = Field(default=12, ge=1, le=1200)
    heartbeats_days: int = Field(default=30, ge=1, le=36500)
    partitions_ahead: int = Field(default=3, ge=1, le=24)
    enabled: bool = True


class MetricsSettings(_Section):
    """Prometheus metrics: ``/metrics`` on ``serve``, and a port of its own for a separate worker."""

    enabled: bool = True
    token_file: Path | None = None
    cache_s: float = Field(default=10.0, ge=0, le=300)
    worker_port: int | None = Field(default=None, ge=1, le=65535)
    worker_host: str = "127.0.0.1"


class NotifySettings(_Section):
    """Webhook and e-mail deliveries: the worker's delivery thread."""

    enabled: bool = True
    interval_s: float = Field(default=5.0, gt=0, le=300)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=12, ge=1, le=100)
    backoff_s: float = Field(default=30.0, gt=0)
    backoff_max_s: float = Field(default=6 * 3600.0, gt=0)
    batch_size: int = Field(default=20, ge=1, le=1000)
    keep_delivered_days: float = Field(default=30.0, gt=0)


class MailSettings(_Section):
    """The SMTP server report subscriptions are sent through (STARTTLS, credentials from a file)."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    sender: str = "SODAV Monitor <monitor@localhost>"
    max_attachment_mb: float = Field(default=20.0, gt=0)

    def password(self) -> SecretStr | None:
        return read_secret(self.password_file, "mail.password_file") if self.password_file else None


class ReportS3Settings(_Section):
    """S3-compatible object storage for report files (``report_storage = "s3"``)."""

    endpoint_url: str | None = None  # None: AWS S3 itself; else e.g. https://minio.example.org:9000
    bucket: str | None = None
    prefix: str = "reports/"
    region: str = "us-east-1"
    access_key_file: Path | None = None  # files (mode 0600) or systemd credentials; none: boto3's
    secret_key_file: Path | None = None  # own chain (environment, instance role)
    path_style: bool = True  # https://HOST/BUCKET/KEY (MinIO, Ceph); false: https://BUCKET.HOST/KEY
    timeout_s: float = Field(default=30.0, gt=0, le=600)


class CollectorSettings(_Section):
    environment: str = Field(default="production", pattern="^(production|development|test)$")
    database_url: str = DEFAULT_DATABASE_URL
    database_password_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    log_level: str = Field(default="INFO", pattern="^(?i:debug|info|warning|error|critical)$")
    log_format: str = Field(default="text", pattern="^(text|json)$")
    max_upload_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    agent_offline_after_s: float = Field(default=300.0, gt=0)
    report_dir: Path = Path("reports")
    report_storage: str = Field(default="directory", pattern="^(directory|s3)$")
    report_s3: ReportS3Settings = Field(default_factory=ReportS3Settings)
    # Redis shared by several collector processes (live events, report answers); empty: none,
    # everything in process. redis://HOST:6379/0, rediss://… (TLS), unix:///run/redis/redis.sock
    redis_url: str = ""
    redis_password_file: Path | None = None
    timezone: str = "Africa/Dakar"
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    recognizers: RecognizerSettings = Field(default_factory=RecognizerSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    mail: MailSettings = Field(default_factory=MailSettings)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///PATH (embedded default) or postgresql://USER@HOST/DB")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                "use redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH, or leave it empty"
            )
        return value

    @model_validator(mode="after")
    def _password_from_file(self) -> CollectorSettings:
        """Put the PostgreSQL password read from ``database_password_file`` into the URL."""
        if self.database_password_file is None:
            return self
        if self.is_sqlite:
            raise ValueError("database_password_file is for PostgreSQL; an SQLite URL has no password")
        from sqlalchemy.engine import make_url

        secret = read_secret(self.database_password_file, "database_password_file")
        url = make_url(self.database_url).set(password=secret.get_secret_value())
        self.database_url = url.render_as_string(hide_password=False)
        return self

    @model_validator(mode="after")
    def _mail_needs_tls_for_passwords(self) -> CollectorSettings:
        if (
            self.mail.password_file is not None
            and not self.mail.starttls
            and self.environment == "production"
        ):
            raise ValueError("mail.password_file without mail.starttls would send the password in clear")
        return self

    @model_validator(mode="after")
    def _no_placeholders(self) -> CollectorSettings:
        if self.environment != "production":
            return self
        rec = self.recognizers
        for name, secret in (
            ("recognizers.acoustid_key", rec.acoustid_key),
            ("recognizers.audd_token", rec.audd_token),
        ):
            if secret is not None and secret.get_secret_value().lower() in _PLACEHOLDERS:
                raise ValueError(f"{name} is a placeholder; set the real secret or remove the key")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> CollectorSettings:
        if self.report_storage == "s3" and not self.report_s3.bucket:
            raise ValueError("report_storage = s3 needs report_s3.bucket")
        if (self.report_s3.access_key_file is None) != (self.report_s3.secret_key_file is None):
            raise ValueError("give both report_s3.access_key_file and report_s3.secret_key_file, or neither")
        return self

    def s3_credentials(self) -> tuple[str | None, str | None]:
        """The S3 access key and secret from their files, or (None, None): boto3's own chain."""
        s3 = self.report_s3
        if s3.access_key_file is None or s3.secret_key_file is None:
            return None, None
        access = read_secret(s3.access_key_file, "report_s3.access_key_file").get_secret_value()
        return access, read_secret(s3.secret_key_file, "report_s3.secret_key_file").get_secret_value()

    def redis_url_value(self) -> str:
        """``redis_url`` with the password of ``redis_password_file`` in it, if any."""
        if not self.redis_url or self.redis_password_file is None:
            return self.redis_url
        secret = read_secret(self.redis_password_file, "redis_password_file").get_secret_value()
        scheme, rest = self.redis_url.split("://", 1)
        return f"{scheme}://:{quote(secret, safe='')}@{rest.split('@', 1)[-1]}"

    def acoustid_key_value(self) -> SecretStr | None:
        rec = self.recognizers
        if rec.acoustid_key_file:
            return read_secret(rec.acoustid_key_file, "recognizers.acoustid_key_file")
        return rec.acoustid_key

    def audd_token_value(self) -> SecretStr | None:
        rec = self.recognizers
        if rec.audd_token_file:
            return read_secret(rec.audd_token_file, "recognizers.audd_token_file")
        return rec.audd_token


def load(path: str | Path | None = None, environ: dict[str, str] | None = None) -> CollectorSettings:
    env = dict(os.environ if environ is None else environ)
    if path is None:
        path = env.get(ENV_PREFIX + "CONFIG") or (
            DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
        )
    return load_settings(CollectorSettings, prefix=ENV_PREFIX, path=path, environ=env)
