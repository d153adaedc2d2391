"""The ``alert_cursor`` table: the newest event the Notifier has decided alerts for.

Both functions join the caller's transaction: the cursor is read under a row lock and moved in
the same transaction that writes the alert rows it decided, so the two commit together or not
at all, and two Notifiers (a restart overlapping the old one) never decide the same events.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.models import AlertCursor, Event

CURSOR_ID = 1


async def lock(session: AsyncSession) -> int:
    """The last decided event id, row-locked until the transaction ends. A missing row (an
    emptied table) starts at the newest event: the past is not alerted on."""
    last = await session.scalar(
        select(AlertCursor.last_event_id).where(AlertCursor.id == CURSOR_ID).with_for_update()
    )
    if last is not None:
        return last
    newest = select(func.coalesce(func.max(Event.id), 0)).scalar_subquery()
    await session.execute(
        insert(AlertCursor)
        .values(id=CURSOR_ID, last_event_id=newest)
        .on_conflict_do_nothing(index_elements=[AlertCursor.id])
    )
    return await session.scalar(
        select(AlertCursor.last_event_id).where(AlertCursor.id == CURSOR_ID).with_for_update()
    )


async def advance(session: AsyncSession, event_id: int) -> None:
    await session.execute(
        update(AlertCursor)
        .where(AlertCursor.id == CURSOR_ID)
        .values(last_event_id=event_id, updated_at=dt.datetime.now(dt.UTC))
    )
