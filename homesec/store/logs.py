"""The ``logs`` table: rows written by the pipeline itself (status changes, rejections, cleanup
reports), the log handler's batches, and the last cleanup on record.

Most backend log records reach the table through :mod:`.log_handler`; a component writes a row
here itself when the row must commit with its own change (a rejected upload, a camera's status),
and then logs with ``extra=ALREADY_STORED`` so the handler does not store it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from homesec.contract.enums import LogSource
from homesec.models import Log


def add_in(
    session: AsyncSession,
    *,
    level: str,
    component: str,
    message: str,
    camera_id: str | None = None,
    extra: dict[str, Any] | None = None,
    timestamp: dt.datetime | None = None,
    source: LogSource | None = None,
) -> None:
    """Add one row to the caller's transaction."""
    row = Log(level=level, component=component, message=message, camera_id=camera_id, extra=extra)
    if timestamp is not None:
        row.timestamp = timestamp
    if source is not None:
        row.source = source.value
    session.add(row)


async def write(sessions: async_sessionmaker[AsyncSession], **row: Any) -> None:
    """One row in a transaction of its own (the arguments of :func:`add_in`)."""
    async with sessions.begin() as session:
        add_in(session, **row)


async def add_frontend(
    sessions: async_sessionmaker[AsyncSession],
    *,
    level: str,
    component: str,
    message: str,
    user_agent: str | None,
    camera_id: str | None = None,
    event_id: int | None = None,
    detection_id: int | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """A dashboard's log line (``source=frontend``); the new row's id."""
    async with sessions.begin() as session:
        row = Log(
            level=level,
            component=component,
            message=message,
            camera_id=camera_id,
            event_id=event_id,
            detection_id=detection_id,
            request_id=request_id,
            extra=extra,
            source=LogSource.FRONTEND.value,
            user_agent=user_agent,
        )
        session.add(row)
        await session.flush()
        return row.id


async def insert_rows(connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Many rows in one statement (an executemany: one round trip with asyncpg)."""
    await connection.execute(insert(Log), list(rows))


async def last_report_at(
    sessions: async_sessionmaker[AsyncSession], component: str, kind: str
) -> dt.datetime | None:
    """When ``component`` last wrote a row whose ``extra["kind"]`` is ``kind``; None if never."""
    async with sessions() as session:
        return await session.scalar(
            select(func.max(Log.timestamp)).where(
                Log.component == component, Log.extra["kind"].as_string() == kind
            )
        )


def expired(cutoff: dt.datetime):
    """The rows past ``LOG_RETENTION_DAYS`` (the retention cleanup's predicate)."""
    return Log.timestamp < cutoff
