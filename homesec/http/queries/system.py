"""System figures from PostgreSQL: row counts and GPU samples."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.schemas import system as schemas
from homesec.models import Camera, Detection, Event, GPUStats


class RowCounts(msgspec.Struct, kw_only=True):
    cameras: int
    events: int
    detections: int


async def row_counts(session: AsyncSession) -> RowCounts:
    cameras, events, detections = (
        await session.execute(
            select(
                select(func.count()).select_from(Camera).scalar_subquery(),
                select(func.count()).select_from(Event).scalar_subquery(),
                select(func.count()).select_from(Detection).scalar_subquery(),
            )
        )
    ).one()
    return RowCounts(cameras=cameras, events=events, detections=detections)


def _sample(row: GPUStats) -> schemas.GpuSample:
    return msgspec.convert(row, schemas.GpuSample, from_attributes=True)


async def latest_gpu(session: AsyncSession) -> schemas.GpuStatus:
    row = await session.scalar(
        select(GPUStats).order_by(GPUStats.recorded_at.desc(), GPUStats.id.desc()).limit(1)
    )
    if row is None:
        return schemas.GpuStatus(
            available=False,
            detail="no GPU data: nothing was recorded (no GPU, or the GPU monitor is not running)",
        )
    return schemas.GpuStatus(available=True, **msgspec.structs.asdict(_sample(row)))


async def gpu_history(
    session: AsyncSession, since: dt.datetime | None, until: dt.datetime | None, limit: int
) -> schemas.GpuHistory:
    """The newest ``limit`` samples in the window, returned oldest first for plotting."""
    statement = select(GPUStats)
    if since is not None:
        statement = statement.where(GPUStats.recorded_at >= since)
    if until is not None:
        statement = statement.where(GPUStats.recorded_at <= until)
    newest = statement.order_by(GPUStats.recorded_at.desc(), GPUStats.id.desc()).limit(limit)
    samples = [_sample(row) for row in reversed((await session.scalars(newest)).all())]
    return schemas.GpuHistory(samples=samples, count=len(samples), limit=limit)
