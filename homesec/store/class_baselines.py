"""The ``class_baselines`` table: on how many days (decayed) each kind of object was seen on a
camera in each local hour. Building blocks that join the caller's transaction; the visit as a
whole is :mod:`homesec.store.baselines`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.models import ClassBaseline
from homesec.policy.baselines import KindRow, daily_decay
from homesec.store.decay_sql import decayed_plus_one


async def count_day(
    session: AsyncSession,
    camera_id: str,
    local_time: dt.datetime,
    kinds: Iterable[str],
    half_life_days: float,
) -> None:
    """Count ``local_time``'s day for each kind in its hour; a day counts once."""
    today = local_time.date()
    decay = daily_decay(half_life_days)
    table = ClassBaseline.__table__
    for kind in sorted(set(kinds)):
        statement = insert(ClassBaseline).values(
            camera_id=camera_id,
            object_class=kind,
            hour=local_time.hour,
            days_seen=1.0,
            first_seen_on=today,
            last_seen_on=today,
        )
        excluded = statement.excluded
        seen_before = table.c.last_seen_on
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.camera_id, table.c.object_class, table.c.hour],
                set_={
                    "days_seen": case(
                        (seen_before == excluded.last_seen_on, table.c.days_seen),
                        else_=decayed_plus_one(table.c.days_seen, seen_before, today, decay),
                    ),
                    "first_seen_on": func.least(table.c.first_seen_on, excluded.first_seen_on),
                    "last_seen_on": func.greatest(seen_before, excluded.last_seen_on),
                    "updated_at": func.now(),
                },
            )
        )


async def history_start(session: AsyncSession, camera_id: str) -> dt.date | None:
    """The local date of the camera's first counted visit; None: no history."""
    return await session.scalar(
        select(func.min(ClassBaseline.first_seen_on)).where(ClassBaseline.camera_id == camera_id)
    )


async def rows_of(session: AsyncSession, camera_id: str) -> list[KindRow]:
    rows = await session.execute(
        select(
            ClassBaseline.object_class,
            ClassBaseline.hour,
            ClassBaseline.days_seen,
            ClassBaseline.last_seen_on,
        ).where(ClassBaseline.camera_id == camera_id)
    )
    return [KindRow(kind, hour, days, last) for kind, hour, days, last in rows.all()]


async def forget(session: AsyncSession, camera_ids: Sequence[str]) -> None:
    await session.execute(
        delete(ClassBaseline).where(ClassBaseline.camera_id.in_(list(camera_ids)))
    )
