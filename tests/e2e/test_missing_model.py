"""No detector model yet: the API says degraded and why, uploads wait in the queue, and once the
model is copied into place they are processed, without restarting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from homesec.actors.directory import RayActorDirectory
from homesec.http.app import create_app
from tests.e2e.harness import (
    BLUE,
    e2e_settings,
    jpeg_bytes,
    running_pipeline,
    unique_camera,
    uploads_by_status,
    wait_for,
    write_slowly,
)
from tests.support.tiny_rtdetr import build_tiny_rtdetr

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

        health, problem = await wait_for(degraded_for_the_model, timeout=120, what="the reason")
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

        await wait_for(queued, what="three uploads queued, waiting for the model")

        build_tiny_rtdetr(model_dir)  # the owner copies a model into place

        async def done():
            statuses = await uploads_by_status(db_sessions, [camera])
            return statuses if statuses.get("done") == 3 else None

        assert await wait_for(done, timeout=120, what="the waiting uploads processed") == {
            "done": 3
        }

        async def model_problem_gone():
            body = (await client.get("/api/system/health")).json()
            return not any("no detector engine" in p["summary"] for p in body["problems"])

        await wait_for(model_problem_gone, what="the reason gone from the health report")
