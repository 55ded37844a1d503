"""Bearer-token authentication as FastAPI dependencies.

``require_agent`` gives the calling Agent; ``require_role("analyst")`` a User whose role
allows it (admin may do everything an analyst may). Tokens never reach the logs.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from collector.db.request import get_session
from collector.errors import CollectorError
from collector.fleet.models import Agent, User
from collector.fleet.service import Principal, authenticate
from shared.schemas import ErrorCode


class MissingToken(CollectorError):
    status = 401
    code = ErrorCode.MISSING_TOKEN


class InvalidToken(CollectorError):
    status = 401
    code = ErrorCode.INVALID_TOKEN


class RevokedToken(CollectorError):
    status = 401
    code = ErrorCode.REVOKED_TOKEN


class ForbiddenRole(CollectorError):
    status = 403
    code = ErrorCode.FORBIDDEN_ROLE


def _principal(request: Request, session: Session) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken("missing bearer token: send `Authorization: Bearer <token>`")
    result = authenticate(session, token.strip())
    if result is None:
        raise InvalidToken("unknown token: check it, or enroll the agent again")
    if isinstance(result, str):
        raise RevokedToken(f"token {result}: ask an administrator for a new one")
    return result


def require_agent(request: Request, session: Session = Depends(get_session)) -> Agent:
    principal = _principal(request, session)
    if principal.agent is None:
        raise ForbiddenRole("this endpoint is for agents; use an agent token")
    return principal.agent


def require_role(*roles: str) -> Callable[..., User]:
    allowed = set(roles) | {"admin"}

    def dependency(request: Request, session: Session = Depends(get_session)) -> User:
        principal = _principal(request, session)
        if principal.user is None or principal.user.role not in allowed:
            raise ForbiddenRole(f"this needs the role {' or '.join(sorted(allowed))}")
        return principal.user

    return dependency
