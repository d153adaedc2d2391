"""The ``house`` fixture: one DetectionWork over a real PostgreSQL and Redis, with the recording
doubles of tests/support/detection_work.py."""

from __future__ import annotations

import asyncio

import pytest

from homesec.contract import keys
from homesec.store.streams import StreamConsumer
from homesec.workflows.detection import DetectionWork
from tests.support.detection_work import Directory, Engine, Tally
from tests.support.pipeline import CAMERA, pipeline_settings, queue_upload, seed_camera, write_image


@pytest.fixture
async def house(tmp_path, db_sessions, redis_client):
    await seed_camera(db_sessions, tmp_path / "cameras" / CAMERA)
    settings = pipeline_settings(tmp_path, detector_batch_size=4, detector_batch_wait_ms=50)

    class House:
        engine = Engine()
        directory = Directory()
        tally = Tally()
        consumer = StreamConsumer(
            redis_client,
            keys.DETECTION_QUEUE,
            keys.DETECTOR_GROUP,
            "detector:test",
            max_retries=2,
            claim_idle_ms=30_000,
            retry_base_delay=settings.retry_base_seconds,
        )
        work = DetectionWork(
            "detector:test",
            settings,
            consumer,
            db_sessions,
            redis_client,
            directory,
            engine.detect,
            tally,
        )

        async def queue(self, name: str, colour):
            path = tmp_path / "cameras" / CAMERA / name
            data = await asyncio.to_thread(write_image, path, colour)
            return await queue_upload(db_sessions, redis_client, path, data)

    return House()
