"""A camera's habits as a whole, across ``class_baselines`` and ``activity_baselines``: a
visit counted as its event is stored, the habits read back for scoring, and the rebuild from
stored events (arithmetic: :mod:`homesec.policy.baselines`).

A visit is a batch event. Fast-path events are the same visit's preliminary verdict and are not
counted again; reanalysis events repeat a visit and are not counted either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import CameraBaseline
from homesec.models import Detection, Event
from homesec.policy.backfill_plan import REANALYSIS_PREFIX
from homesec.policy.baselines import camera_baseline
from homesec.policy.scene import kind_of
from homesec.store import activity_baselines, class_baselines
from homesec.store.events import decode_detection_ids


def counts_as_visit(batch_id: str, is_fast_path: bool) -> bool:
    return not is_fast_path and not batch_id.startswith(REANALYSIS_PREFIX)


async def record_visit(
    session: AsyncSession,
    camera_id: str,
    local_time: dt.datetime,
    kinds: Iterable[str],
    half_life_days: float,
) -> None:
    """Count one visit at ``local_time`` (the house's local time) seeing ``kinds``; joins the
    caller's transaction."""
    await class_baselines.count_day(session, camera_id, local_time, kinds, half_life_days)
    await activity_baselines.count_visit(session, camera_id, local_time, half_life_days)


async def load_baseline(
    sessions: async_sessionmaker[AsyncSession],
    camera_id: str,
    local_time: dt.datetime,
    half_life_days: float,
) -> CameraBaseline:
    """What the camera's history says about ``local_time``."""
    async with sessions() as session:
        return await baseline_in(session, camera_id, local_time, half_life_days)


async def baseline_in(
    session: AsyncSession, camera_id: str, local_time: dt.datetime, half_life_days: float
) -> CameraBaseline:
    """:func:`load_baseline` in the caller's transaction."""
    since = await class_baselines.history_start(session, camera_id)
    kinds = await class_baselines.rows_of(session, camera_id)
    slot = await activity_baselines.slot_of(session, camera_id, local_time)
    return camera_baseline(kinds, slot, since, local_time, half_life_days)


async def rebuild_baselines(
    sessions: async_sessionmaker[AsyncSession],
    camera_ids: Sequence[str],
    zone: dt.tzinfo | None,
    half_life_days: float,
) -> int:
    """Forget the cameras' habits and learn them again from their stored visits, oldest first,
    in one transaction; returns how many visits were counted."""
    counted = 0
    async with sessions.begin() as session:
        await class_baselines.forget(session, camera_ids)
        await activity_baselines.forget(session, camera_ids)
        rows = await session.execute(
            select(Event.camera_id, Event.started_at, Event.detection_ids)
            .where(
                Event.camera_id.in_(list(camera_ids)),
                Event.is_fast_path.is_(False),
                Event.batch_id.not_like(f"{REANALYSIS_PREFIX}%"),
            )
            .order_by(Event.started_at, Event.id)
        )
        for camera_id, started_at, detection_ids in rows.all():
            ids = decode_detection_ids(detection_ids)
            if not ids:
                continue
            types = await session.scalars(
                select(Detection.object_type).where(Detection.id.in_(ids)).distinct()
            )
            kinds = {kind_of(object_type) for object_type in types.all() if object_type}
            if kinds:
                await record_visit(
                    session, camera_id, started_at.astimezone(zone), kinds, half_life_days
                )
                counted += 1
    return counted
