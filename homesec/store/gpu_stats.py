"""The ``gpu_stats`` table: the GPU monitor's samples, one row per GPU per sample."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import GPUStats


async def insert_samples(
    sessions: async_sessionmaker[AsyncSession], rows: Sequence[dict[str, Any]]
) -> None:
    """One sample's rows (``gpu_stats`` columns), with one INSERT."""
    if rows:
        async with sessions.begin() as session:
            await session.execute(insert(GPUStats), list(rows))


def expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    return GPUStats.recorded_at < cutoff
