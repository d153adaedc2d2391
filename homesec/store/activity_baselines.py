"""The ``activity_baselines`` table: how many visits (decayed) a camera had at each local
weekday and hour. Building blocks that join the caller's transaction; the visit as a whole is
:mod:`homesec.store.baselines`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.models import ActivityBaseline
from homesec.policy.baselines import ActivityRow, daily_decay
from homesec.store.decay_sql import decayed_plus_one


async def count_visit(
    session: AsyncSession, camera_id: str, local_time: dt.datetime, half_life_days: float
) -> None:
    today = local_time.date()
    table = ActivityBaseline.__table__
    statement = insert(ActivityBaseline).values(
        camera_id=camera_id,
        day_of_week=local_time.weekday(),
        hour=local_time.hour,
        visits=1.0,
        last_visit_on=today,
    )
    decay = daily_decay(half_life_days)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.camera_id, table.c.day_of_week, table.c.hour],
            set_={
                "visits": decayed_plus_one(table.c.visits, table.c.last_visit_on, today, decay),
                "last_visit_on": func.greatest(
                    table.c.last_visit_on, statement.excluded.last_visit_on
                ),
                "updated_at": func.now(),
            },
        )
    )


async def slot_of(
    session: AsyncSession, camera_id: str, local_time: dt.datetime
) -> ActivityRow | None:
    """The row of ``local_time``'s weekday and hour, if the camera has one."""
    row = (
        await session.execute(
            select(ActivityBaseline.visits, ActivityBaseline.last_visit_on).where(
                ActivityBaseline.camera_id == camera_id,
                ActivityBaseline.day_of_week == local_time.weekday(),
                ActivityBaseline.hour == local_time.hour,
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return ActivityRow(local_time.weekday(), local_time.hour, row.visits, row.last_visit_on)


async def forget(session: AsyncSession, camera_ids: Sequence[str]) -> None:
    await session.execute(
        delete(ActivityBaseline).where(ActivityBaseline.camera_id.in_(list(camera_ids)))
    )
