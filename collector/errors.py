"""Errors on the wire: every failure answers ``shared.schemas.ErrorV1`` with a stable code."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.schemas import ErrorCode, ErrorV1

log = logging.getLogger("collector.errors")


class ApiError(Exception):
    def __init__(
        self, status: int, code: ErrorCode, message: str, details: list[dict[str, Any]] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorV1(code=code, error=code.name, message=message, details=details or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _clean(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors[:50]:
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422,
            ErrorCode.MALFORMED_PAYLOAD,
            "the payload does not follow the v1 schema; see details",
            _clean(exc.errors()),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = ErrorCode.NOT_FOUND if exc.status_code == 404 else ErrorCode.MALFORMED_PAYLOAD
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the traceback goes to the log (never the token: headers are not logged)
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(
            500,
            ErrorCode.INTERNAL,
            "the collector failed unexpectedly and rolled this request back; retry later "
            "and tell the collector's operators if it persists",
        )
