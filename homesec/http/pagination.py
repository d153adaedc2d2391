"""Keyset (cursor) pagination over ``(time DESC, id DESC)``, the order every list route uses.

The cursor is opaque to clients: URL-safe base64 of the last row's timestamp and id. The next
page is the rows strictly after that pair in the order, so pages never overlap or skip a row,
however many rows share a timestamp and whatever is inserted meanwhile (new rows sort first).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from homesec.http.errors import BadRequest
from homesec.http.schemas.common import MAX_DB_INT

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

_T = TypeVar("_T")


class Cursor(NamedTuple):
    at: dt.datetime
    id: int


def encode_cursor(at: dt.datetime, row_id: int) -> str:
    text = f"{at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


_NOT_A_CURSOR = "cursor is not valid: pass back a next_cursor this API returned"


def decode_cursor(cursor: str) -> Cursor:
    """The position in ``cursor``, checked against what the database holds: a row id in int4's
    range (1 .. 2^31-1) and a time UTC can hold; anything else is a 400, never a value that
    PostgreSQL or asyncpg would refuse."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        at_text, id_text = text.split("|")
        at = dt.datetime.fromisoformat(at_text)
        # Converting to UTC is what asyncpg does to send it: a time near year 1 or 9999 with
        # an offset has no UTC instant.
        at.astimezone(dt.UTC)
    except (ValueError, UnicodeError, binascii.Error, OverflowError):
        raise BadRequest(_NOT_A_CURSOR) from None
    if at.tzinfo is None or not id_text.isdigit() or not 1 <= int(id_text) <= MAX_DB_INT:
        raise BadRequest(_NOT_A_CURSOR)
    return Cursor(at, int(id_text))


class RankedCursor(NamedTuple):
    """A position in a search's order: ``(relevance DESC, time DESC, id DESC)``."""

    relevance: int
    at: dt.datetime
    id: int


def encode_ranked_cursor(relevance: int, at: dt.datetime, row_id: int) -> str:
    return encode_cursor(at, row_id) + "." + str(relevance)


def decode_ranked_cursor(cursor: str) -> RankedCursor:
    """A search page's cursor: a plain cursor and the relevance after a dot. A plain cursor
    given to a search (or a search's to a plain list) is a 400 like any other."""
    plain, dot, relevance = cursor.rpartition(".")
    if not dot or not relevance.isdigit() or int(relevance) > MAX_DB_INT:
        raise BadRequest(_NOT_A_CURSOR)
    position = decode_cursor(plain)
    return RankedCursor(int(relevance), position.at, position.id)


def after(
    at_column: InstrumentedAttribute[dt.datetime],
    id_column: InstrumentedAttribute[int],
    cursor: Cursor,
) -> ColumnElement[bool]:
    """Rows after ``cursor`` in ``(at DESC, id DESC)`` order.

    Spelled with a leading ``at <= cursor.at`` so a plain index on the time column bounds the
    scan, as well as a composite ``(at, id)`` index would.
    """
    return and_(
        at_column <= cursor.at,
        or_(at_column < cursor.at, and_(at_column == cursor.at, id_column < cursor.id)),
    )


def split_page(rows: Sequence[_T], limit: int, key: tuple[str, str]) -> tuple[list[_T], str | None]:
    """``rows`` fetched with ``limit + 1``: the page, and the cursor of the next one if any."""
    page = list(rows[:limit])
    if len(rows) <= limit or not page:
        return page, None
    last = page[-1]
    return page, encode_cursor(getattr(last, key[0]), getattr(last, key[1]))
