"""No detector model yet: the API says degraded and why, uploads wait in the queue, and once the
model is copied into place they are processed, without restarting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from homesec.actors.directory import RayActorDirectory
from homesec.http.app import create_app
from tests.support.images import BLUE, jpeg_bytes
from tests.support.live_pipeline import (
    e2e_settings,
    running_pipeline,
    unique_camera,
    uploads_by_status,
    write_slowly,
)
from tests.support.tiny_rtdetr import build_tiny_rtdetr
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]


async def test_uploads_wait_for_a_missing_model_and_go_through_once_it_is_there(
    ray_cluster, migrated_database_url, redis_url, db_sessions, tmp_path: Path
):
    model_dir = tmp_path / "models" / "rtdetr"  # nothing there yet
    settings = e2e_settings(
        tmp_path, DETECTOR_MODEL=str(model_dir), DETECTION_CONFIDENCE_THRESHOLD="0.0"
    )
    camera = unique_camera("drive")
    folder = settings.foscam_base_path / camera
    folder.mkdir(parents=True)
    app = create_app(
        settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        actors=RayActorDirectory(),
    )
    async with (
        AsyncTestClient(app, base_url="http://127.0.0.1") as client,
        running_pipeline(settings, migrated_database_url, redis_url),
    ):

        async def degraded_for_the_model():
            body = (await client.get("/api/system/health")).json()
            found = [p for p in body.get("problems", []) if "no detector engine" in p["summary"]]
            return (body, found[0]) if found else None

        health, problem = await eventually(
            degraded_for_the_model, timeout=120, what="the reason", interval=0.25
        )
        assert health["status"] == "degraded"
        assert problem["component"] == "detector:0"
        assert "DETECTOR_MODEL" in problem["remedy"]
        ready = (await client.get("/health/ready")).json()
        assert ready["ready"] is True and ready["status"] == "degraded"

        for index in range(3):
            await write_slowly(folder / f"car_{index}.jpg", jpeg_bytes(BLUE, seed=40 + index))

        async def queued():
            statuses = await uploads_by_status(db_sessions, [camera])
            return statuses if statuses.get("queued") == 3 else None

        await eventually(
            queued, timeout=60.0, what="three uploads queued, waiting for the model", interval=0.25
        )

        build_tiny_rtdetr(model_dir)  # the owner copies a model into place

        async def done():
            statuses = await uploads_by_status(db_sessions, [camera])
            return statuses if statuses.get("done") == 3 else None

        assert await eventually(
            done, timeout=120, what="the waiting uploads processed", interval=0.25
        ) == {"done": 3}

        async def model_problem_gone():
            body = (await client.get("/api/system/health")).json()
            return not any("no detector engine" in p["summary"] for p in body["problems"])

        await eventually(
            model_problem_gone,
            timeout=60.0,
            what="the reason gone from the health report",
            interval=0.25,
        )
