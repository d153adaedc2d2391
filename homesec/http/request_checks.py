"""What every request is checked for before its handler runs (the app's ``before_request``).

- Integer and date-time parameters spelled as documented (:mod:`homesec.http.strict_params`).
- A JSON body nested at most :data:`MAX_JSON_DEPTH` deep. msgspec decodes recursively and raises
  ``RecursionError`` on a body like ``[[[[...]]]]`` a thousand deep, which was a 500; no body
  this API takes nests more than a few levels. Its size is bounded by the app's
  ``request_max_body_size`` (413), which Litestar checks while the body is read.

Litestar decodes a handler's JSON ``data`` whatever the request's Content-Type says, so the depth
is checked for every handler that takes JSON, not only for requests labelled JSON.
"""

from __future__ import annotations

import re

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg

from homesec.http.errors import BadRequest
from homesec.http.strict_params import check_parameters

MAX_JSON_DEPTH = 32
MAX_BODY_BYTES = 256 * 1024  # the app's limit; routes may set a lower one

# A JSON string, escapes and all: brackets inside one do not nest anything.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPENING = frozenset(b"[{")


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body``'s arrays and objects nest deeper than ``limit`` (without decoding it)."""
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b"", body)):
        if bracket.group()[0] in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _takes_json(request: Request) -> bool:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    kwarg = data.kwarg_definition
    media_type = kwarg.media_type if isinstance(kwarg, BodyKwarg) else RequestEncodingType.JSON
    return media_type == RequestEncodingType.JSON


async def check_request(request: Request) -> None:
    check_parameters(request)
    if _takes_json(request) and json_too_deep(await request.body()):
        raise BadRequest(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
