"""The agent's configuration: one typed object, validated at start-up.

Sources: ``/etc/sodav-agent/agent.toml`` (or ``--config``), then ``SODAV_AGENT_*``
environment variables (nested keys joined by ``__``, e.g. ``SODAV_AGENT_COLLECTOR__URL``),
then the token: ``collector.token_file``, the systemd credential ``agent-token``, a file
``token`` beside the configuration file, or ``DATA_DIR/token``.
See ``docs/technician/configuration.md`` and ``edge_agent/agent.example.toml``.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator

from shared.config import ConfigError, load_settings, read_secret

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "AgentSettings",
    "BufferSettings",
    "CollectorSettings",
    "FingerprintSettings",
    "HealthSettings",
    "MetricsSettings",
    "SourceKind",
    "StationSettings",
    "load",
]

ENV_PREFIX = "SODAV_AGENT_"
DEFAULT_CONFIG_PATH = Path("/etc/sodav-agent/agent.toml")
_SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceKind(StrEnum):
    HTTP = "http"  # Icecast / Shoutcast, with ICY titles
    HLS = "hls"  # .m3u8 playlists
    FFMPEG = "ffmpeg"  # anything else ffmpeg/PyAV opens
    SOUNDCARD = "soundcard"  # a capture device through PortAudio
    FILE = "file"  # replay of a recording


class StationSettings(_Section):
    slug: Annotated[str, Field(pattern=_SLUG)]
    name: str | None = None
    kind: SourceKind | None = Field(default=None, description="guessed from url/device if absent")
    url: str | None = None
    device: str | int | None = Field(default=None, description="sound card name or index")
    channel: int | None = Field(default=None, ge=1, description="1-based; mixes all if absent")
    device_sample_rate: int = Field(default=44100, ge=8000, le=192000)
    path: Path | None = None
    realtime: bool = True
    start: str | None = Field(default=None, description="file replay: UTC start of the recording")
    rate_variants_ppm: list[int] | None = Field(
        default=None, description="override of the collector's directive, e.g. [-20000, 0, 20000]"
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> StationSettings:
        given = [n for n in ("url", "device", "path") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"station {self.slug}: give exactly one of url, device or path (got {given or 'none'})"
            )
        if self.kind is None:
            if self.device is not None:
                self.kind = SourceKind.SOUNDCARD
            elif self.path is not None:
                self.kind = SourceKind.FILE
            elif self.url and re.search(r"\.m3u8($|\?)", self.url):
                self.kind = SourceKind.HLS
            elif self.url and self.url.startswith(("http://", "https://")):
                self.kind = SourceKind.HTTP
            else:
                self.kind = SourceKind.FFMPEG
        return self


class CollectorSettings(_Section):
    url: str | None = Field(default=None, description="https://collector.example.org")
    token_file: Path | None = None
    token: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    batch_max_segments: int = Field(default=500, ge=1, le=2000)
    batch_max_bytes: int = Field(default=1_000_000, ge=10_000)
    batch_max_age_s: float = Field(default=60.0, gt=0)
    heartbeat_interval_s: float = Field(default=60.0, gt=0)
    retry_max_backoff_s: float = Field(default=300.0, gt=0)
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value


class FingerprintSettings(_Section):
    segment_seconds: float = Field(default=10.0, ge=2.0, le=600.0)
    sample_rate: int = Field(default=11025, ge=8000, le=48000)
    default_rate_variants_ppm: list[int] = Field(
        default_factory=lambda: [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000],
        description="variants computed until the collector's directive narrows them",
    )


class BufferSettings(_Section):
    disk_budget_mb: float = Field(default=2048.0, gt=0)
    keep_fingerprints_days: float = Field(default=30.0, gt=0)
    excerpt_hours: float = Field(default=48.0, ge=0)
    excerpt_bitrate_kbps: int = Field(default=24, ge=6, le=256)


class HealthSettings(_Section):
    silence_dbfs: float = Field(default=-50.0, le=0)
    silence_seconds: float = Field(default=30.0, gt=0)
    stall_seconds: float = Field(default=20.0, gt=0)
    reconnect_initial_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=120.0, gt=0)


class MetricsSettings(_Section):
    textfile: Path | None = Field(
        default=None, description="node_exporter textfile to write, e.g. .../node-exporter/sodav-agent.prom"
    )
    interval_s: float = Field(default=15.0, ge=1)


class AgentSettings(_Section):
    name: str | None = Field(default=None, description="set by `sodav-agent enroll`")
    data_dir: Path = Path("/var/lib/sodav-agent")
    log_level: str = "INFO"
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    fingerprint: FingerprintSettings = Field(default_factory=FingerprintSettings)
    buffer: BufferSettings = Field(default_factory=BufferSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    stations: list[StationSettings] = Field(default_factory=list)
    # the file it was loaded from (load() sets it): the token may sit beside it
    _config_file: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_slugs(self) -> AgentSettings:
        seen: set[str] = set()
        for station in self.stations:
            if station.slug in seen:
                raise ValueError(f"station slug {station.slug!r} appears twice")
            seen.add(station.slug)
        return self

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite"

    def token_files(self) -> list[tuple[Path, str]]:
        """Where the token is looked for when it is not inline nor in ``collector.token_file``,
        in order, each with what to call it: the systemd credential, the file ``token`` beside
        the configuration file (the Debian package's /etc/sodav-agent/token, which systemd
        hands to the daemon as that credential), ``DATA_DIR/token``."""
        found = []
        cred = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred:
            found.append((Path(cred) / "agent-token", "systemd credential agent-token"))
        if self._config_file is not None:
            beside = self._config_file.parent / "token"
            found.append((beside, f"token file {beside} (beside the configuration)"))
        default = self.data_dir / "token"
        found.append((default, f"token file {default}"))
        return found

    def resolved_token(self) -> SecretStr | None:
        """The token: inline (env), from token_file, else the first of :meth:`token_files`."""
        if self.collector.token is not None:
            return self.collector.token
        if self.collector.token_file is not None:
            return read_secret(self.collector.token_file, "collector.token_file")
        for path, what in self.token_files():
            try:
                present = path.exists()
            except PermissionError:  # a directory this user may not enter
                raise ConfigError(
                    f"{what}: cannot look into {path.parent} as this user; run as root (sudo)"
                ) from None
            if present:
                return read_secret(path, what)
        return None


def load(path: str | Path | None = None, environ: dict[str, str] | None = None) -> AgentSettings:
    """Load and validate; raise :class:`ConfigError` with every problem named."""
    env = dict(os.environ if environ is None else environ)
    if path is None:
        path = env.get(ENV_PREFIX + "CONFIG") or (
            DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
        )
    settings = load_settings(AgentSettings, prefix=ENV_PREFIX, path=path, environ=env)
    settings._config_file = Path(path).absolute() if path is not None else None
    return settings


# re-exported for callers that catch it from here
ConfigError = ConfigError
