"""Bearer-token authentication as FastAPI dependencies.

``require_agent`` gives the calling Agent; ``require_role("analyst")`` a User whose role
allows it (admin may do everything an analyst may). Tokens never reach the logs. The header is
read through FastAPI's :class:`~fastapi.security.HTTPBearer`, so the OpenAPI description
declares the scheme and ``/docs`` can send a token; its refusals are ours (``ErrorV1``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
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


bearer = HTTPBearer(
    bearerFormat="sdu_… (user) or sda_… (agent)",
    description="A user token from `sodav-collector users add|token`, or an agent token from enrollment.",
    auto_error=False,
)
Credentials = HTTPAuthorizationCredentials | None


def _principal(credentials: Credentials, session: Session) -> Principal:
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise MissingToken("missing bearer token: send `Authorization: Bearer <token>`")
    result = authenticate(session, token)
    if result is None:
        raise InvalidToken("unknown token: check it, or enroll the agent again")
    if isinstance(result, str):
        raise RevokedToken(f"token {result}: ask an administrator for a new one")
    return result


def require_agent(
    credentials: Credentials = Depends(bearer), session: Session = Depends(get_session)
) -> Agent:
    principal = _principal(credentials, session)
    if principal.agent is None:
        raise ForbiddenRole("this endpoint is for agents; use an agent token")
    return principal.agent


def require_role(*roles: str) -> Callable[..., User]:
    allowed = set(roles) | {"admin"}

    def dependency(
        credentials: Credentials = Depends(bearer), session: Session = Depends(get_session)
    ) -> User:
        principal = _principal(credentials, session)
        if principal.user is None or principal.user.role not in allowed:
            raise ForbiddenRole(f"this needs the role {' or '.join(sorted(allowed))}")
        return principal.user

    return dependency
