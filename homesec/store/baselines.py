"""The ``class_baselines`` and ``activity_baselines`` tables: a camera's habits, recorded as its
visits' events are stored and read back for scoring (arithmetic: :mod:`homesec.pipeline.baselines`).

A visit is a batch event (fast-path events are the same visit's preliminary verdict and are not
counted again; reanalysis events repeat a visit and are not counted either). Updates are single
upserts whose decay happens in SQL, so two writers cannot lose a day between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Integer, case, cast, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import CameraBaseline
from homesec.models import ActivityBaseline, ClassBaseline, Detection, Event
from homesec.pipeline.backfill_plan import REANALYSIS_PREFIX
from homesec.pipeline.baselines import ActivityRow, KindRow, camera_baseline, daily_decay
from homesec.pipeline.scene import kind_of
from homesec.store.events import decode_detection_ids


def _decayed_plus_one(value, last, today: dt.date, decay: float):
    """SQL: ``value`` decayed from ``last`` to ``today``, plus today's one. A late event (its
    day before ``last``) adds its own decayed one instead."""
    days = cast(literal(today) - last, Integer)
    return case(
        (days >= 0, value * func.power(decay, days) + 1),
        else_=value + func.power(decay, -days),
    )


async def record_visit(
    session: AsyncSession,
    camera_id: str,
    local_time: dt.datetime,
    kinds: Iterable[str],
    half_life_days: float,
) -> None:
    """Count one visit at ``local_time`` (the house's local time) seeing ``kinds``; joins the
    caller's transaction."""
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
                    # A day counts once, however many visits it has.
                    "days_seen": case(
                        (seen_before == excluded.last_seen_on, table.c.days_seen),
                        else_=_decayed_plus_one(table.c.days_seen, seen_before, today, decay),
                    ),
                    "first_seen_on": func.least(table.c.first_seen_on, excluded.first_seen_on),
                    "last_seen_on": func.greatest(seen_before, excluded.last_seen_on),
                    "updated_at": func.now(),
                },
            )
        )
    activity = ActivityBaseline.__table__
    statement = insert(ActivityBaseline).values(
        camera_id=camera_id,
        day_of_week=local_time.weekday(),
        hour=local_time.hour,
        visits=1.0,
        last_visit_on=today,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[activity.c.camera_id, activity.c.day_of_week, activity.c.hour],
            set_={
                "visits": _decayed_plus_one(
                    activity.c.visits, activity.c.last_visit_on, today, decay
                ),
                "last_visit_on": func.greatest(
                    activity.c.last_visit_on, statement.excluded.last_visit_on
                ),
                "updated_at": func.now(),
            },
        )
    )


def counts_as_visit(batch_id: str, is_fast_path: bool) -> bool:
    return not is_fast_path and not batch_id.startswith(REANALYSIS_PREFIX)


async def load_baseline(
    sessions: async_sessionmaker[AsyncSession],
    camera_id: str,
    local_time: dt.datetime,
    half_life_days: float,
) -> CameraBaseline:
    """What the camera's history says about ``local_time``."""
    async with sessions() as session:
        since = await session.scalar(
            select(func.min(ClassBaseline.first_seen_on)).where(
                ClassBaseline.camera_id == camera_id
            )
        )
        kind_rows = (
            await session.execute(
                select(
                    ClassBaseline.object_class,
                    ClassBaseline.hour,
                    ClassBaseline.days_seen,
                    ClassBaseline.last_seen_on,
                ).where(ClassBaseline.camera_id == camera_id)
            )
        ).all()
        activity = (
            await session.execute(
                select(ActivityBaseline.visits, ActivityBaseline.last_visit_on).where(
                    ActivityBaseline.camera_id == camera_id,
                    ActivityBaseline.day_of_week == local_time.weekday(),
                    ActivityBaseline.hour == local_time.hour,
                )
            )
        ).one_or_none()
    kinds = [KindRow(row[0], row[1], row[2], row[3]) for row in kind_rows]
    slot = (
        ActivityRow(local_time.weekday(), local_time.hour, activity[0], activity[1])
        if activity is not None
        else None
    )
    return camera_baseline(kinds, slot, since, local_time, half_life_days)


# --- the rebuild -------------------------------------------------------------------------------
async def rebuild_baselines(
    sessions: async_sessionmaker[AsyncSession],
    camera_ids: Sequence[str],
    zone: dt.tzinfo | None,
    half_life_days: float,
) -> int:
    """Forget the cameras' baselines and learn them again from their stored visits, oldest
    first, in one transaction; returns how many visits were counted."""
    counted = 0
    async with sessions.begin() as session:
        await session.execute(
            delete(ClassBaseline).where(ClassBaseline.camera_id.in_(list(camera_ids)))
        )
        await session.execute(
            delete(ActivityBaseline).where(ActivityBaseline.camera_id.in_(list(camera_ids)))
        )
        rows = await session.execute(
            select(Event.id, Event.camera_id, Event.started_at, Event.detection_ids)
            .where(
                Event.camera_id.in_(list(camera_ids)),
                Event.is_fast_path.is_(False),
                Event.batch_id.not_like(f"{REANALYSIS_PREFIX}%"),
            )
            .order_by(Event.started_at, Event.id)
        )
        for row in rows.all():
            ids = decode_detection_ids(row.detection_ids)
            if not ids:
                continue
            types = await session.scalars(
                select(Detection.object_type).where(Detection.id.in_(ids)).distinct()
            )
            kinds = {kind_of(t) for t in types.all() if t}
            if not kinds:
                continue
            await record_visit(
                session, row.camera_id, row.started_at.astimezone(zone), kinds, half_life_days
            )
            counted += 1
    return counted
