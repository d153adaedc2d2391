"""The ``timeline_looks`` table: each viewer's last look at the timeline (issue 24).

One unit of work per view: the row is read under ``FOR UPDATE`` (two tabs of one viewer count
one after the other) and moved on by :func:`homesec.policy.last_look.after_view`, and written back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import TimelineLook
from homesec.policy.last_look import Look, after_view

HOUSE = "house"  # the viewer while API keys are off: everyone who opens the dashboard


async def count_view(
    sessions: async_sessionmaker[AsyncSession], viewer: str, now: dt.datetime
) -> Look:
    """Count a view at ``now``; the look it belongs to. A viewer's first view inserts its row
    (``ON CONFLICT DO NOTHING``: two first views at once make one row); later ones move it on
    under ``FOR UPDATE``."""
    async with sessions.begin() as session:
        created = await session.scalar(
            insert(TimelineLook)
            .values(viewer=viewer, looked_at=now, previous_at=None)
            .on_conflict_do_nothing(index_elements=[TimelineLook.viewer])
            .returning(TimelineLook.viewer)
        )
        if created is not None:
            return after_view(None, now)
        row = await session.scalar(
            select(TimelineLook).where(TimelineLook.viewer == viewer).with_for_update()
        )
        look = after_view(Look(looked_at=row.looked_at, previous_at=row.previous_at), now)
        row.looked_at, row.previous_at = look.looked_at, look.previous_at
    return look


async def last_look(sessions: async_sessionmaker[AsyncSession], viewer: str) -> Look | None:
    async with sessions() as session:
        row = await session.get(TimelineLook, viewer)
    return Look(looked_at=row.looked_at, previous_at=row.previous_at) if row else None
