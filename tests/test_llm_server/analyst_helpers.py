"""Running an Analyst in the test's event loop on one batch, for the LLM-server tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select

from homesec.actors.analyst import Analyst
from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob
from homesec.models import Event
from homesec.store.streams import enqueue
from tests.support.analyst import seed_detections
from tests.support.waiting import eventually

CAMERA_ID = "driveway"
CAMERA_NAME = "Driveway"
NIGHT = dt.datetime(2024, 3, 5, 2, 30, tzinfo=dt.UTC)
SEEN = [
    ("person", 0.91, NIGHT, (10, 20, 30, 60)),
    ("car", 0.77, NIGHT + dt.timedelta(seconds=15), (0, 100, 200, 80)),
]


async def seed_batch(db_sessions) -> AnalysisJob:
    """A camera, its detections, and the job of their batch."""
    ids = await seed_detections(db_sessions, SEEN, CAMERA_ID, CAMERA_NAME)
    return AnalysisJob(
        batch_id=f"batch-{secrets.token_hex(4)}", camera_id=CAMERA_ID, detection_ids=ids
    )


async def events_of(db_sessions, job: AnalysisJob) -> list[Event]:
    async with db_sessions() as session:
        found = await session.scalars(select(Event).where(Event.batch_id == job.batch_id))
        return list(found)


async def scored_event(db_sessions, redis_client, job: AnalysisJob, timeout: float) -> Event:
    """Queue ``job`` for the running analyst and wait for its event."""
    await enqueue(redis_client, keys.ANALYSIS_QUEUE, job)

    async def written() -> list[Event]:
        return await events_of(db_sessions, job)

    [event] = await eventually(written, timeout, f"an event for {job.batch_id}")
    return event


@asynccontextmanager
async def running(analyst: Analyst) -> AsyncIterator[Analyst]:
    task = asyncio.create_task(analyst.run())
    try:
        yield analyst
        assert not task.done(), f"the main loop ended early: {analyst.last_error}"
    finally:
        await analyst.stop()
        await asyncio.gather(task, return_exceptions=True)
