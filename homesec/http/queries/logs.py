"""Logs in PostgreSQL: filtered keyset pages, 24-hour statistics, frontend entries."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.pagination import Cursor, after, split_page
from homesec.http.schemas import logs as schemas
from homesec.models import Log, LogSource


class LogFilters(msgspec.Struct, kw_only=True):
    level: str | None = None
    component: str | None = None
    camera_id: str | None = None
    source: LogSource | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    search: str | None = None


def page_statement(filters: LogFilters, cursor: Cursor | None, limit: int) -> Select:
    conditions = []
    if filters.level is not None:
        conditions.append(Log.level == filters.level)
    if filters.component is not None:
        conditions.append(Log.component == filters.component)
    if filters.camera_id is not None:
        conditions.append(Log.camera_id == filters.camera_id)
    if filters.source is not None:
        conditions.append(Log.source == filters.source)
    if filters.start_time is not None:
        conditions.append(Log.timestamp >= filters.start_time)
    if filters.end_time is not None:
        conditions.append(Log.timestamp <= filters.end_time)
    if filters.search:
        # autoescape: a client's % or _ is matched literally, not as a wildcard.
        conditions.append(Log.message.icontains(filters.search, autoescape=True))
    if cursor is not None:
        conditions.append(after(Log.timestamp, Log.id, cursor))
    return (
        select(Log)
        .where(*conditions)
        .order_by(Log.timestamp.desc(), Log.id.desc())
        .limit(limit + 1)
    )


async def list_logs(
    session: AsyncSession, filters: LogFilters, cursor: Cursor | None, limit: int
) -> schemas.LogPage:
    rows = (await session.scalars(page_statement(filters, cursor, limit))).all()
    page, next_cursor = split_page(rows, limit, ("timestamp", "id"))
    items = [msgspec.convert(row, schemas.LogRecord, from_attributes=True) for row in page]
    return schemas.LogPage(items=items, next_cursor=next_cursor)


async def _counts(session: AsyncSession, column, condition) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).where(condition).group_by(column))
    return {name: count for name, count in rows}


async def log_stats(session: AsyncSession, now: dt.datetime) -> schemas.LogStats:
    since = now - dt.timedelta(hours=24)
    recent = Log.timestamp >= since
    by_level = await _counts(session, Log.level, recent)
    by_component = await _counts(session, Log.component, recent)
    return schemas.LogStats(
        total=sum(by_level.values()), by_level=by_level, by_component=by_component, since=since
    )
