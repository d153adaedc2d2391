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

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

_T = TypeVar("_T")


class Cursor(NamedTuple):
    at: dt.datetime
    id: int


def encode_cursor(at: dt.datetime, row_id: int) -> str:
    text = f"{at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Cursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        at_text, id_text = text.split("|")
        at = dt.datetime.fromisoformat(at_text)
        row_id = int(id_text)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadRequest("cursor is not valid: pass back a next_cursor this API returned") from None
    if at.tzinfo is None:
        raise BadRequest("cursor is not valid: pass back a next_cursor this API returned")
    return Cursor(at, row_id)


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
