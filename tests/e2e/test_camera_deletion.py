"""A deleted camera stays deleted: the running pipeline does not find its folder again, starts no
watcher for it and ingests none of its images; the images themselves are kept aside."""

from __future__ import annotations

import asyncio
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
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]


async def test_a_deleted_camera_is_not_registered_or_watched_again(
    ray_cluster, migrated_database_url, redis_url, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("side")
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
        await write_slowly(folder / "car.jpg", jpeg_bytes(BLUE, seed=77))

        async def done():
            return (await uploads_by_status(db_sessions, [camera])).get("done") == 1

        await eventually(done, timeout=60.0, what="the camera's upload done", interval=0.25)

        def watched(wanted: bool):
            async def check() -> bool:
                body = (await client.get("/api/system/health")).json()
                names = {actor["name"] for actor in body["actors"]}
                return (f"watcher:{camera}" in names) is wanted

            return check

        await eventually(
            watched(True), timeout=60.0, what="its watcher in the report", interval=0.25
        )
        assert (await client.delete(f"/api/cameras/{camera}")).status_code == 204
        await eventually(watched(False), timeout=60.0, what="its watcher stopped", interval=0.25)
        await asyncio.sleep(4.0)  # several supervisor cycles (1 s each) later ...
        assert (await client.get(f"/api/cameras/{camera}")).status_code == 404
        assert await uploads_by_status(db_sessions, [camera]) == {}  # nothing ingested again
        assert await (watched(False))()
    assert not folder.exists()
    [archived] = (settings.foscam_base_path / ".removed").iterdir()
    assert (archived / "car.jpg").is_file()
