"""Structured logs: the backend's own and those the dashboard sends."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from homesec.http.schemas.common import DbId, text

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

MAX_MESSAGE_CHARS = 10_240
MAX_EXTRA_BYTES = 32_768

Message = text(MAX_MESSAGE_CHARS, min_length=1)
Component = text(50, min_length=1)
CameraRef = text(100)
RequestId = text(36)


class LogRecord(msgspec.Struct, kw_only=True):
    id: int
    timestamp: dt.datetime
    level: str
    component: str
    message: str
    camera_id: str | None
    event_id: int | None
    request_id: str | None
    detection_id: int | None
    duration_ms: int | None
    extra: dict[str, Any] | None
    source: str
    user_agent: str | None


class LogPage(msgspec.Struct, kw_only=True):
    """Newest first. ``next_cursor`` fetches the following page; None on the last one."""

    items: list[LogRecord]
    next_cursor: str | None


class LogStats(msgspec.Struct, kw_only=True):
    """Counts over the last 24 hours."""

    total: int
    by_level: dict[str, int]
    by_component: dict[str, int]
    since: dt.datetime


class FrontendLog(msgspec.Struct, kw_only=True):
    """A log line from the dashboard; stored with ``source=frontend`` and the user agent.

    ``extra`` may hold up to 32 KB of JSON; a larger one is refused with 413.
    """

    level: LogLevel
    message: Message
    component: Component = "frontend"
    camera_id: CameraRef | None = None
    event_id: DbId | None = None
    detection_id: DbId | None = None
    request_id: RequestId | None = None
    extra: dict[str, Any] | None = None


class LogAccepted(msgspec.Struct, kw_only=True):
    id: int
