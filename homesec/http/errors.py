"""The HTTP area's errors and the one place they become RFC 9457 problem details.

Routes raise an :class:`ApiError` subclass; Litestar's own exceptions (validation, unknown route,
wrong method, body too large) and the few infrastructure failures a request can meet (database or
Redis down, a value PostgreSQL refuses) are mapped here too, so every error leaves the API as
``application/problem+json`` with a status, a title and a detail a person can act on.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("homesec.http")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ApiError(Exception):
    """Root of the errors routes raise; ``status_code`` and ``detail`` go to the client."""

    status_code = 500

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class UnprocessableContent(ApiError):
    status_code = 422


class TooManyRequests(ApiError):
    status_code = 429


class ServiceUnavailable(ApiError):
    status_code = 503


def problem(
    request: Request,
    status_code: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return Response(
        body, status_code=status_code, media_type=PROBLEM_MEDIA_TYPE, headers=headers or {}
    )


def _api_error(request: Request, exc: ApiError) -> Response:
    return problem(request, exc.status_code, exc.detail, headers=exc.headers, **exc.extra)


def _validation_error(request: Request, exc: ValidationException) -> Response:
    # Litestar lists each bad field as {"key", "message", "source"}; keep them for the client.
    errors = exc.extra if isinstance(exc.extra, list) else []
    named = "; ".join(
        f"{item.get('key')}: {item.get('message')}"
        for item in errors
        if isinstance(item, dict) and item.get("key")
    )
    detail = named or exc.detail or "the request is not valid"
    return problem(request, 400, detail, errors=errors)


def _http_exception(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    return problem(request, exc.status_code, detail, headers=exc.headers or {})


def _bad_value(request: Request, exc: DataError) -> Response:
    # PostgreSQL refused a value (a NUL byte in text, an integer out of range): the client's
    # input, which validation should have caught; still a 400, never a 500.
    log.warning("value refused by PostgreSQL on %s: %s", request.url.path, exc.orig)
    return problem(request, 400, "a value in the request cannot be stored or compared")


def _dependency_down(request: Request, exc: Exception) -> Response:
    log.warning("dependency unavailable on %s: %r", request.url.path, exc)
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        which = "Redis"
    elif isinstance(exc, DBAPIError):
        which = "PostgreSQL"
    else:  # a raw socket error: asyncpg raises those while connecting
        which = "PostgreSQL or Redis"
    return problem(request, 503, f"{which} is not reachable; try again shortly")


def _database_error(request: Request, exc: DBAPIError) -> Response:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return _dependency_down(request, exc)
    return _unexpected(request, exc)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "an internal error occurred; it has been logged")


EXCEPTION_HANDLERS = {
    ApiError: _api_error,
    ValidationException: _validation_error,
    HTTPException: _http_exception,
    DataError: _bad_value,
    DBAPIError: _database_error,
    RedisConnectionError: _dependency_down,
    RedisTimeoutError: _dependency_down,
    ConnectionError: _dependency_down,
    TimeoutError: _dependency_down,
    Exception: _unexpected,
}
