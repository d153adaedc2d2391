"""After Redis lost its data: batches are rebuilt from PostgreSQL, and no detection ever ends up
in two batch events."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from sqlalchemy import select

from homesec.actors.batcher import Batcher
from homesec.contract.jobs import AnalysisJob
from homesec.models import Camera, Detection, Event
from homesec.settings import load_settings
from homesec.store.detections import load_batch
from tests.support.pipeline import analysis_jobs

CAMERA = "porch"


async def seed(db_sessions, now: dt.datetime) -> list[int]:
    """A camera with four recent detections and one from yesterday."""
    async with db_sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Porch", folder_path="/c/porch"))
        await session.flush()
        rows = [
            Detection(
                camera_id=CAMERA,
                file_path=f"/c/porch/{index}.jpg",
                detected_at=when,
                object_type="car",
                confidence=0.8,
            )
            for index, when in enumerate(
                [now - dt.timedelta(minutes=m) for m in (10, 9, 8, 7)]
                + [now - dt.timedelta(days=1)]
            )
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def add_event(db_sessions, batch_id: str, ids: list[int], when, *, fast: bool = False):
    async with db_sessions.begin() as session:
        session.add(
            Event(
                batch_id=batch_id,
                camera_id=CAMERA,
                started_at=when,
                detection_ids=json.dumps(ids),
                is_fast_path=fast,
                risk_score=10,
                risk_level="low",
            )
        )


async def test_batcher_rebuilds_batches_nobody_holds(
    db_sessions, redis_client, migrated_database_url, redis_url, tmp_path
):
    now = dt.datetime.now(dt.UTC)
    first, second, third, fourth, yesterday = await seed(db_sessions, now)
    await add_event(db_sessions, "batch-a", [first], now - dt.timedelta(minutes=10))
    # A fast-path event does not count: its detection also belongs in a normal batch.
    await add_event(db_sessions, "fast-x", [second], now - dt.timedelta(minutes=9), fast=True)
    settings = load_settings(
        {"HOMESEC_DATA_DIR": str(tmp_path), "BATCH_IDLE_TIMEOUT_SECONDS": "0.1"}
    )
    batcher = Batcher("batcher:porch", settings, migrated_database_url, redis_url, CAMERA)
    try:
        assert await batcher.recover_orphans() == 3
        assert await batcher.recover_orphans() == 0, "handed back once, not twice"
        await asyncio.sleep(0.2)  # idle long enough: the rebuilt batch closes
        await batcher.tick()
    finally:
        await batcher.stop()
    jobs = await analysis_jobs(redis_client)
    assert [sorted(job.detection_ids) for job in jobs] == [sorted([second, third, fourth])]
    assert yesterday not in jobs[0].detection_ids


async def test_analyst_leaves_detections_an_event_already_holds(db_sessions):
    now = dt.datetime.now(dt.UTC)
    first, second, third, _fourth, _old = await seed(db_sessions, now)
    await add_event(db_sessions, "batch-a", [first, second], now - dt.timedelta(minutes=10))

    rebuilt = AnalysisJob(batch_id="batch-b", camera_id=CAMERA, detection_ids=[first, third])
    batch = await load_batch(db_sessions, rebuilt)
    assert [d.detection_id for d in batch.detections] == [third]

    repeat = AnalysisJob(batch_id="batch-c", camera_id=CAMERA, detection_ids=[first, second])
    assert await load_batch(db_sessions, repeat) is None

    # Its own event (a redelivery of batch-a) and fast-path jobs are not filtered.
    again = AnalysisJob(batch_id="batch-a", camera_id=CAMERA, detection_ids=[first, second])
    assert len((await load_batch(db_sessions, again)).detections) == 2
    fast = AnalysisJob(
        batch_id=f"fast-{first}", camera_id=CAMERA, detection_ids=[first], is_fast_path=True
    )
    assert len((await load_batch(db_sessions, fast)).detections) == 1
    async with db_sessions() as session:
        assert len((await session.scalars(select(Event))).all()) == 1
