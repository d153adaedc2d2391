"""Strict spelling of integer and date-time parameters, checked before Litestar converts them.

Litestar converts path and query values leniently: ``int()`` takes ``٣`` (an Arabic-Indic three)
and ``3_0``, and msgspec takes ``3.0`` and ``1e3`` as integers and ``-4691`` (seconds since 1970)
as a date-time. The API documents integers and ISO-8601 date-times, so anything else is a 400
naming the parameter: ids are ASCII digits, dates are ``2026-01-01T00:00:00Z`` (offset optional;
UTC when none). Bounds (``ge``/``le``) stay with each parameter's declaration.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from litestar import Request
from litestar.params import ParameterKwarg
from litestar.typing import FieldDefinition

from homesec.http.errors import BadRequest

# ASCII only ([0-9], never \d, which matches every script's digits); an optional minus sign so
# that a negative number reaches its bound check and gets that message. 20 digits hold any
# int8, so a longer spelling is refused before anything parses it.
INTEGER = re.compile(r"-?[0-9]{1,20}", re.ASCII)
# RFC 3339 date-time (``T`` or a space between date and time, seconds and fraction optional),
# with ``Z`` or ``±HH:MM`` or none.
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
DATE_TIME_EXAMPLE = "2026-01-01T00:00:00Z"

Kind = Literal["integer", "date-time"]


@dataclass(frozen=True, slots=True)
class StrictParameter:
    name: str  # as the client spells it (a query alias, the path's name)
    source: Literal["path", "query"]
    kind: Kind


def _kind(field: FieldDefinition) -> Kind | None:
    if field.is_subclass_of(bool):
        return None
    if field.is_subclass_of(int) or (field.is_optional and field.has_inner_subclass_of(int)):
        # bool is an int too, but a union of bool and None has bool inside: exclude it again.
        return None if field.has_inner_subclass_of(bool) else "integer"
    if field.is_subclass_of(dt.datetime) or (
        field.is_optional and field.has_inner_subclass_of(dt.datetime)
    ):
        return "date-time"
    return None


def strict_parameters(
    fields: Mapping[str, FieldDefinition], path_names: frozenset[str]
) -> tuple[StrictParameter, ...]:
    """The integer and date-time parameters among a handler's ``fields``."""
    found = []
    for name, field in fields.items():
        kind = _kind(field)
        if kind is None or name == "data" or field.is_di_field:
            continue
        if name in path_names:
            found.append(StrictParameter(name, "path", kind))
            continue
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg) and (kwarg.header or kwarg.cookie):
            continue
        alias = kwarg.query if isinstance(kwarg, ParameterKwarg) and kwarg.query else name
        found.append(StrictParameter(alias, "query", kind))
    return tuple(found)


def problem_with(parameter: StrictParameter, raw: str) -> str | None:
    """What is wrong with ``raw`` as ``parameter``, or None when it is spelled right."""
    if parameter.kind == "integer":
        if INTEGER.fullmatch(raw) is None:
            return f"{parameter.name} must be a whole number written in ASCII digits"
        return None
    if DATE_TIME.fullmatch(raw) is None:
        # Worded as Litestar words the dates it refuses itself, so a client sees one message.
        return (
            f"{parameter.name}: Invalid RFC3339 encoded datetime; write an ISO-8601 date and "
            f"time such as {DATE_TIME_EXAMPLE} (UTC when no offset is given)"
        )
    return None


def check_parameters(request: Request) -> None:
    """Refuse (400) an integer or date-time path or query value not spelled as documented."""
    path = request.path_params
    query = request.query_params
    fields = request.route_handler.parsed_fn_signature.parameters
    for parameter in strict_parameters(fields, frozenset(path)):
        values = [path[parameter.name]] if parameter.source == "path" else []
        if parameter.source == "query":
            values = query.getall(parameter.name, [])
        for raw in values:
            if not isinstance(raw, str):
                continue  # parsed by the router already (an :int path); nothing to check
            problem = problem_with(parameter, raw)
            if problem is not None:
                raise BadRequest(problem)
