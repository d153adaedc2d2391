"""Running an Analyst in the test's event loop on one batch, for the LLM-server tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from homesec.actors.analyst import Analyst
from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob
from homesec.models import Event
from homesec.settings import Settings
from homesec.store.streams import enqueue
from tests.test_actors.test_analyst import seed

CAMERA_ID = "driveway"
CAMERA_NAME = "Driveway"
NIGHT = dt.datetime(2024, 3, 5, 2, 30, tzinfo=dt.UTC)
SEEN = [
    ("person", 0.91, NIGHT, (10, 20, 30, 60)),
    ("car", 0.77, NIGHT + dt.timedelta(seconds=15), (0, 100, 200, 80)),
]


def analyst_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "foscam_base_path": tmp_path,
        "llm_engine": "rules",
        "max_retries": 2,
        "retry_base_seconds": 0.02,
        "timezone": "UTC",
    }
    return Settings(**(values | overrides))


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
    return result


async def seed_batch(db_sessions) -> AnalysisJob:
    """A camera, its detections, and the job of their batch."""
    ids = await seed(db_sessions, SEEN, CAMERA_ID, CAMERA_NAME)
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
