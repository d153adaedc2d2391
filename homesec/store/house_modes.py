"""The ``house_mode_changes`` table: the house's mode, its log, and the mode at a moment.

The mode in force is the latest change; with none the house is ``home``. A change to the mode
already in force is not logged again (Home Assistant repeats its select's state, a schedule
edge may find the mode already set), so the log holds only real changes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.house_mode import DEFAULT_MODE, MAX_CHANGED_BY_CHARS, ModeChange
from homesec.models import HouseModeChange

# The log's rows a reader gets at most.
MAX_HISTORY = 1000
# A transaction-scoped advisory lock: two setters (the dashboard and MQTT at once) take turns,
# even on an empty table where there is no row to lock.
_SET_LOCK = 0x686F6D65  # "home"


def _change(row: HouseModeChange) -> ModeChange:
    return ModeChange(mode=row.mode, changed_at=row.changed_at, changed_by=row.changed_by)


async def latest_in(session: AsyncSession, at: dt.datetime | None = None) -> ModeChange:
    """The change in force at ``at`` (None: now), or the default ``home`` with no change then
    (joins the caller's transaction)."""
    query = select(HouseModeChange).order_by(
        HouseModeChange.changed_at.desc(), HouseModeChange.id.desc()
    )
    if at is not None:
        query = query.where(HouseModeChange.changed_at <= at)
    row = await session.scalar(query.limit(1))
    return _change(row) if row is not None else ModeChange(mode=DEFAULT_MODE.value)


async def mode_at(session: AsyncSession, at: dt.datetime) -> str:
    """The mode in force at ``at``: what the analyst scores a picture taken then with."""
    return (await latest_in(session, at)).mode


async def current(sessions: async_sessionmaker[AsyncSession]) -> ModeChange:
    async with sessions() as session:
        return await latest_in(session)


async def set_mode(
    sessions: async_sessionmaker[AsyncSession],
    mode: str,
    changed_by: str,
    at: dt.datetime | None = None,
) -> tuple[ModeChange, bool]:
    """Make ``mode`` the house's mode, logged as ``changed_by``; (the change in force, whether
    this call logged it). The lock keeps two setters from both logging the same switch."""
    async with sessions.begin() as session:
        await session.execute(select(func.pg_advisory_xact_lock(_SET_LOCK)))
        in_force = await latest_in(session)
        if in_force.mode == mode:
            return in_force, False
        row = HouseModeChange(mode=mode, changed_by=changed_by[:MAX_CHANGED_BY_CHARS])
        if at is not None:
            row.changed_at = at
        session.add(row)
        await session.flush()
        await session.refresh(row)
        return _change(row), True


async def history(
    sessions: async_sessionmaker[AsyncSession], limit: int = MAX_HISTORY
) -> list[ModeChange]:
    """The latest ``limit`` changes, newest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(HouseModeChange)
            .order_by(HouseModeChange.changed_at.desc(), HouseModeChange.id.desc())
            .limit(min(limit, MAX_HISTORY))
        )
        return [_change(row) for row in rows]
