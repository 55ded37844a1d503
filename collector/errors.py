"""The collector's one error type, and how it reaches a person.

Every failure a person can act on is a :class:`CollectorError`: the subclass fixes the HTTP
status and the stable wire code (``shared.schemas.ErrorCode``), the message says what went
wrong and what to do next. The application answers any of them with an ``ErrorV1`` body
(:func:`collector.app.create_app` installs the one handler), and ``sodav-collector`` prints the
message and exits 2 (:func:`collector.cli.main`). Nothing translates a domain error by hand.

    CollectorError                            500 INTERNAL (a base, never raised as such)
    ├── InvalidRequest                        422 MALFORMED_PAYLOAD
    │   ├── ingest.service.UnsupportedSchema  422 UNSUPPORTED_SCHEMA
    │   ├── ingest.service.InvalidFingerprint 422 INVALID_FINGERPRINT
    │   ├── fleet.service.FleetError
    │   │   └── EnrollmentError               401 INVALID_ENROLLMENT_CODE
    │   ├── catalog.service.CatalogError
    │   ├── reports.service.ReportError
    │   ├── reports.periods.PeriodError
    │   └── analyze.AnalysisError
    ├── NotFound                              404 NOT_FOUND
    │   ├── fleet.service.FleetNotFound
    │   ├── plays.service.PlayNotFound
    │   ├── reports.service.StationNotFound
    │   └── reports.storage.StorageError
    ├── Conflict                              409 CONFLICT
    ├── PayloadTooLarge                       413 PAYLOAD_TOO_LARGE
    ├── fleet.auth.MissingToken               401 MISSING_TOKEN
    ├── fleet.auth.InvalidToken               401 INVALID_TOKEN
    ├── fleet.auth.RevokedToken               401 REVOKED_TOKEN
    ├── fleet.auth.ForbiddenRole              403 FORBIDDEN_ROLE
    ├── ingest.service.ForbiddenStation       403 FORBIDDEN_STATION
    └── ingest.service.UnknownStation         403 UNKNOWN_STATION
"""

from __future__ import annotations

from typing import Any

from shared.schemas import ErrorCode, ErrorV1


class CollectorError(Exception):
    """A failure with its HTTP status, its wire code, a message and optional details."""

    status: int = 500
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidRequest(CollectorError):
    """The request (or the command's input) cannot be carried out as given."""

    status = 422
    code = ErrorCode.MALFORMED_PAYLOAD


class NotFound(CollectorError):
    status = 404
    code = ErrorCode.NOT_FOUND


class PayloadTooLarge(CollectorError):
    status = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE


class Conflict(CollectorError):
    """The thing exists already, or the change would break a rule (leave no admin)."""

    status = 409
    code = ErrorCode.CONFLICT


_ANSWERS = {
    401: "no token, or an unknown, revoked or expired one (codes 4, 5, 6, 10)",
    403: "the token's role or agent may not do this (codes 7, 9, 11)",
    404: "no such path, station, recording or file (code 12)",
    409: "the thing exists already, or the change would break a rule (code 13)",
    413: "the body is over max_upload_bytes, compressed or decompressed (code 8)",
    422: "the request does not follow the schema, or its values are out of range (codes 1, 2, 3, 15)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of a router's endpoints for the OpenAPI description: an ``ErrorV1`` body."""
    return {status: {"model": ErrorV1, "description": _ANSWERS[status]} for status in statuses}
