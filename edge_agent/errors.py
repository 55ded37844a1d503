"""Every error the agent raises on purpose, and whether it is worth retrying.

    AgentError
    ├── ConfigError                (shared.config: the configuration cannot be used)
    ├── SourceError                a station's audio cannot be had right now
    │   ├── SourceUnreachable      DNS, refused, timeout at connect, HTTP error status
    │   ├── SourceStalled          connected, but no audio for too long
    │   ├── SourceEnded            EOF on a live stream (a disconnect)
    │   └── DeviceError            sound card missing or failing
    ├── BufferError                the local SQLite outbox
    │   └── BufferFull             disk full or budget exhausted even after the policy ran
    └── UploadError                talking to the collector
        ├── RetryableUpload        network error, timeout, 5xx, 429: try again later
        │   ├── CollectorUnreachable   no TCP/TLS connection at all
        │   ├── CollectorTimeout       no answer within collector.timeout_s
        │   └── NotACollector          a 2xx that is not the collector's JSON (a captive
        │                              portal, a web server at collector.url)
        └── RejectedUpload         other 4xx: retrying will not help; the batch is parked
            └── AuthError          401/403: the token is wrong, revoked or out of scope

The class decides the policy: the uploader retries :class:`RetryableUpload` with capped,
jittered backoff (honouring ``Retry-After``), and parks a batch on :class:`RejectedUpload`
with the collector's message as the visible reason.
"""

from __future__ import annotations

__all__ = [
    "AgentError",
    "AuthError",
    "BufferError",
    "BufferFull",
    "CollectorTimeout",
    "CollectorUnreachable",
    "DeviceError",
    "NotACollector",
    "RejectedUpload",
    "RetryableUpload",
    "SourceEnded",
    "SourceError",
    "SourceStalled",
    "SourceUnreachable",
    "UploadError",
    "classify_status",
]


class AgentError(Exception):
    """Base of the agent's own errors."""


class SourceError(AgentError):
    reason = "disconnected"


class SourceUnreachable(SourceError):
    reason = "unreachable"


class SourceStalled(SourceError):
    reason = "stalled"


class SourceEnded(SourceError):
    reason = "disconnected"


class DeviceError(SourceError):
    reason = "device_error"


class BufferError(AgentError):
    pass


class BufferFull(BufferError):
    pass


class UploadError(AgentError):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RetryableUpload(UploadError):
    pass


class CollectorUnreachable(RetryableUpload):
    pass


class CollectorTimeout(RetryableUpload):
    pass


class NotACollector(RetryableUpload):
    pass


class RejectedUpload(UploadError):
    pass


class AuthError(RejectedUpload):
    pass


def classify_status(status: int, message: str, retry_after: float | None = None) -> UploadError:
    """Map an HTTP error status to the error class that carries the right policy."""
    if status == 429 or status >= 500:
        return RetryableUpload(f"collector answered {status}: {message}", status, retry_after)
    if status in (401, 403):
        return AuthError(f"collector refused the token ({status}): {message}", status)
    return RejectedUpload(f"collector rejected the batch ({status}): {message}", status)
