"""Query and path parameter types shared by the routes, with their bounds in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from homesec.http.errors import BadRequest
from homesec.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from homesec.http.schemas.common import MAX_DB_INT, NO_NUL

RowId = Annotated[int, PathParameter(ge=1, le=MAX_DB_INT, description="a row id")]
Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")
]
PageCursor = Annotated[
    str | None,
    QueryParameter(max_length=200, pattern=NO_NUL, description="next_cursor of the previous page"),
]
FilterText = Annotated[str | None, QueryParameter(min_length=1, max_length=100, pattern=NO_NUL)]
SearchText = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=200, pattern=NO_NUL, description="case-insensitive"),
]
Since = Annotated[
    dt.datetime | None, QueryParameter(description="ISO-8601; UTC when no offset given")
]
Until = Since

__all__ = [
    "DEFAULT_LIMIT",
    "FilterText",
    "Limit",
    "PageCursor",
    "RowId",
    "SearchText",
    "Since",
    "Until",
]


def utc(moment: dt.datetime | None, name: str = "the time") -> dt.datetime | None:
    """Naive times from a client are taken as UTC, as the database stores them. A time with an
    offset that UTC cannot hold (0001-01-01T00:00:00+05:00 is before year 1 in UTC) is a 400:
    asyncpg would fail converting it."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise BadRequest(f"{name} is outside the range of times UTC can hold") from None


def time_window(
    start: dt.datetime | None,
    end: dt.datetime | None,
    names: tuple[str, str] = ("start_date", "end_date"),
) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = utc(start, names[0]), utc(end, names[1])
    if start is not None and end is not None and start > end:
        raise BadRequest(f"{names[0]} is after {names[1]}")
    return start, end
