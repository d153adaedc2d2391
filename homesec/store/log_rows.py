"""A ``logging.LogRecord`` as a ``logs`` row that PostgreSQL will always accept.

Context passed as ``extra={...}`` lands in its column (``camera_id``, ``event_id``,
``detection_id``, ``request_id``, ``duration_ms``) when it has the column's type and size, and
in the JSON ``extra`` otherwise, with every other extra. Everything is made safe first: one bad
value (a NUL byte, NaN, an id beyond INTEGER, an object JSON cannot hold) would otherwise fail
the whole batch it is written with.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import null

from homesec.contract.enums import LogSource

LogRow = dict[str, Any]

COMPONENT = "homesec.store.log_handler"  # the handler's own rows (drop reports)

# Column sizes of the contract's ``logs`` table.
LEVEL_CHARS = 10
COMPONENT_CHARS = 50
CAMERA_ID_CHARS = 100
REQUEST_ID_CHARS = 36
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
JSON_MAX_DEPTH = 8

# What every LogRecord carries; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
_FORMATTER_ATTRIBUTES = frozenset({"message", "asctime", "taskName"})


def record_to_row(record: logging.LogRecord, message: str) -> LogRow:
    """``message`` is the record formatted by the handler (exception text included)."""
    row = _row(
        timestamp=dt.datetime.fromtimestamp(record.created, dt.UTC),
        level=record.levelname,
        component=record.name,
        message=message,
    )
    extra: dict[str, Any] = {}
    for key, value in vars(record).items():
        if _not_context(key) or value is None:
            continue
        convert = _CONTEXT_COLUMNS.get(key)
        column_value = convert(value) if convert is not None else None
        if column_value is not None:
            row[key] = column_value
        else:
            extra[_text(str(key))] = json_safe(value)
    if extra:
        row["extra"] = extra
    return row


def drop_report_row(dropped: int, queue_size: int) -> LogRow:
    row = _row(
        timestamp=dt.datetime.now(dt.UTC),
        level="WARNING",
        component=COMPONENT,
        message=f"{dropped} log record(s) dropped: the log queue ({queue_size}) was full",
    )
    row["extra"] = {"dropped": dropped}
    return row


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON that PostgreSQL accepts: no NaN or infinity, no NUL, str keys."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _text(value)
    if depth >= JSON_MAX_DEPTH:  # deep or self-referencing structures
        return _text(repr(value))
    if isinstance(value, Mapping):
        return {_text(str(key)): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item, depth + 1) for item in value]
    return _text(str(value))  # datetimes, UUIDs, paths, enums: their text says what they were


def _not_context(key: str) -> bool:
    # Private attributes are a record factory's, not the caller's: Ray's adds
    # ``_ray_timestamp_ns`` to every record of a process that imported it.
    return key in _RECORD_ATTRIBUTES or key in _FORMATTER_ATTRIBUTES or key.startswith("_")


def _row(*, timestamp: dt.datetime, level: str, component: str, message: str) -> LogRow:
    # Every row has every key: one executemany INSERT needs them all alike.
    return {
        "timestamp": timestamp,
        "level": level[:LEVEL_CHARS],
        "component": component[:COMPONENT_CHARS],
        "message": _text(message),
        "camera_id": None,
        "event_id": None,
        "request_id": None,
        "detection_id": None,
        "duration_ms": None,
        "extra": null(),  # SQL NULL; a bare None would be stored as the JSON value null
        "source": LogSource.BACKEND.value,
    }


def _text(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value  # PostgreSQL text has no NUL


def _short_text(limit: int) -> Callable[[Any], str | None]:
    def convert(value: Any) -> str | None:
        if isinstance(value, str) and 0 < len(value) <= limit:
            return _text(value)
        return None

    return convert


def _identifier(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and INT4_MIN <= value <= INT4_MAX:
        return value
    return None


def _milliseconds(value: Any) -> int | None:
    if isinstance(value, float) and math.isfinite(value):
        value = round(value)
    return _identifier(value)


_CONTEXT_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "camera_id": _short_text(CAMERA_ID_CHARS),
    "request_id": _short_text(REQUEST_ID_CHARS),
    "event_id": _identifier,
    "detection_id": _identifier,
    "duration_ms": _milliseconds,
}
