"""The OpenAPI document tells the truth about errors and headers.

Routes declare the errors of their own (``responses=problems(404, 409)``); :func:`complete_document`
then adds the statuses every operation can answer with, because the front door gives them
whatever the route: 400 (a bad Host header, a parameter spelled wrong), 401 (API keys on, a
route that is not public), 403 (an unsafe method from another site's page), 413 (a body past
the limit), 500 and 503 (PostgreSQL or Redis not answering). Every error is described as what
:mod:`homesec.http.errors` sends, ``application/problem+json``, not as Litestar's own error
body. It also corrects ``Last-Modified`` of file responses, which Litestar types as an ISO
date-time though it is sent as an HTTP date.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from homesec.http.auth import PUBLIC_PATHS, SAFE_METHODS
from homesec.http.errors import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA = "Problem"
_PROBLEM_REF = Reference(ref=f"#/components/schemas/{PROBLEM_SCHEMA}")


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem detail; validation errors add ``errors``, one per bad field."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """A route's own error statuses, each with a problem+json body."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=HTTPStatus(status).phrase,
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def _problem_schema() -> Schema:
    text = Schema(type=OpenAPIType.STRING)
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail"],
        properties={
            "type": text,
            "title": text,
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": text,
            "instance": text,
            "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT)),
        },
        description=Problem.__doc__,
    )


def _problem_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=_PROBLEM_REF)},
    )


def _common_statuses(path: str, method: str, operation: Operation) -> set[int]:
    statuses = {400, 500}
    if path != "/health":  # liveness touches neither PostgreSQL nor Redis
        statuses.add(503)
    if PUBLIC_PATHS.match(path) is None:
        statuses.add(401)
    if method.upper() not in SAFE_METHODS:
        statuses.add(403)
    if operation.request_body is not None:
        statuses.add(413)
    return statuses


_HTTP_DATE = Schema(
    type=OpenAPIType.STRING,
    description="an HTTP date (RFC 9110), such as Sun, 06 Nov 1994 08:49:37 GMT",
)


def _fix_headers(response: OpenAPIResponse) -> None:
    for name, header in (response.headers or {}).items():
        if name.lower() == "last-modified" and isinstance(header, OpenAPIHeader):
            header.schema = _HTTP_DATE
            header.description = "when the file last changed, as an HTTP date"


def _operations(openapi: OpenAPI) -> list[tuple[str, str, Operation]]:
    found = []
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                found.append((path, method, operation))
    return found


def complete_document(openapi: OpenAPI) -> OpenAPI:
    """Add the common error statuses to every operation and describe every error as a problem."""
    assert openapi.components is not None
    schemas: dict[str, Any] = dict(openapi.components.schemas or {})
    schemas[PROBLEM_SCHEMA] = _problem_schema()
    openapi.components.schemas = schemas
    for path, method, operation in _operations(openapi):
        responses = dict(operation.responses or {})
        for status in _common_statuses(path, method, operation):
            responses.setdefault(str(status), _problem_response(status))
        for code, response in list(responses.items()):
            if not isinstance(response, OpenAPIResponse):
                continue
            _fix_headers(response)
            # Errors are problems, except where a route documents a body of its own for one
            # (readiness answers 503 with its report).
            if code[0] in "45" and not _has_own_body(response):
                responses[code] = _problem_response(int(code))
        operation.responses = responses
    return openapi


def _has_own_body(response: OpenAPIResponse) -> bool:
    content = response.content or {}
    if PROBLEM_MEDIA_TYPE in content:
        return False
    # Litestar's generated error responses describe its own error body: not what we send.
    return any(
        isinstance(media.schema, Reference) and not media.schema.ref.endswith("/Problem")
        for media in content.values()
    )
