"""A job that fails on its own still reaches its dead-letter queue, after its retries, and alone:
a poison image (one the detector engine cannot take) among good ones."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from sqlalchemy import select

from homesec.contract import keys
from homesec.models import Upload
from tests.support.images import BLUE, RED, jpeg_bytes
from tests.support.live_pipeline import (
    e2e_settings,
    running_pipeline,
    unique_camera,
    uploads_by_status,
    write_slowly,
)
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]

GREEN = (0, 255, 0)  # the scripted engine's poison


async def test_a_poison_image_is_dead_lettered_after_its_retries_and_alone(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path, MAX_RETRIES="3", DETECTOR_BATCH_WAIT_MS="500")
    camera = unique_camera("shed")
    folder = settings.foscam_base_path / camera
    folder.mkdir(parents=True)
    async with running_pipeline(settings, migrated_database_url, redis_url):
        for index, colour in enumerate((RED, GREEN, BLUE, BLUE)):
            await write_slowly(folder / f"img_{index}.jpg", jpeg_bytes(colour, seed=60 + index))

        async def finished():
            statuses = await uploads_by_status(db_sessions, [camera])
            return statuses if sum(statuses.values()) == 4 and "queued" not in statuses else None

        statuses = await eventually(
            finished, timeout=120, what="every upload done or failed", interval=0.25
        )
    assert statuses == {"done": 3, "failed": 1}
    [raw] = await redis_client.lrange(keys.dlq(keys.DETECTION_QUEUE), 0, -1)
    letter = msgspec.json.decode(raw)
    assert letter["original_job"]["file_path"] == str(folder / "img_1.jpg")
    assert letter["attempt_count"] == 1 + 3
    assert "cannot take this image" in letter["error"]
    async with db_sessions() as session:
        error = await session.scalar(
            select(Upload.error).where(Upload.file_path == str(folder / "img_1.jpg"))
        )
    assert "cannot take this image" in error  # the ledger carries the last error
