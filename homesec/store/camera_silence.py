"""What the offline check reads (issue 23): each camera's recent upload times, its last upload
and the owner's threshold, across ``cameras`` and ``uploads`` in one session. Read only: the
check opens and clears problems through :mod:`homesec.store.camera_problems`."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera, Upload


class CameraUploads(msgspec.Struct, frozen=True, kw_only=True):
    camera_id: str
    name: str
    offline_after_minutes: int | None
    last_seen_at: dt.datetime | None  # its newest upload, as the watcher or the ledger says
    upload_times: list[dt.datetime]  # newest ``limit`` uploads since ``since``, oldest first


async def camera_uploads(
    sessions: async_sessionmaker[AsyncSession], since: dt.datetime, limit: int
) -> list[CameraUploads]:
    """Every enabled camera with its recent uploads (a disabled one is not watched)."""
    async with sessions() as session:
        cameras = (
            await session.execute(
                select(Camera.id, Camera.name, Camera.offline_after_minutes, Camera.last_seen_at)
                .where(Camera.enabled.is_(True))
                .order_by(Camera.id)
            )
        ).all()
        found = []
        for camera_id, name, threshold, last_seen in cameras:
            times = await _upload_times(session, camera_id, since, limit)
            newest = max([t for t in (last_seen, times[-1] if times else None) if t is not None],
                         default=None)  # fmt: skip
            found.append(
                CameraUploads(
                    camera_id=camera_id,
                    name=name,
                    offline_after_minutes=threshold,
                    last_seen_at=newest,
                    upload_times=times,
                )
            )
        return found


async def _upload_times(
    session: AsyncSession, camera_id: str, since: dt.datetime, limit: int
) -> list[dt.datetime]:
    newest = (
        select(Upload.received_at)
        .where(Upload.camera_id == camera_id, Upload.received_at >= since)
        .order_by(Upload.received_at.desc())
        .limit(limit)
        .subquery()
    )
    rows = await session.scalars(select(newest.c.received_at).order_by(newest.c.received_at))
    return list(rows.all())
