"""The front door against the running pipeline: health from the supervisor, cleanup through the
janitor, an event made from an upload, all through the Ray-backed adapters `homesec up` uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from homesec.actors.directory import RayActorDirectory, run_cleanup
from homesec.http.app import create_app
from tests.support.images import RED, jpeg_bytes
from tests.support.live_pipeline import e2e_settings, running_pipeline, unique_camera, write_slowly
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]


async def test_health_cleanup_and_events_through_the_running_pipeline(
    ray_cluster, migrated_database_url, redis_url, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("door")
    (settings.foscam_base_path / camera).mkdir(parents=True)
    app = create_app(
        settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        actors=RayActorDirectory(),
        cleanup=run_cleanup,
    )
    async with (
        # A loopback Host: the app refuses names that are not this machine's (DNS rebinding).
        AsyncTestClient(app, base_url="http://127.0.0.1") as client,
        running_pipeline(settings, migrated_database_url, redis_url),
    ):

        async def every_actor_alive():
            body = (await client.get("/api/system/health")).json()
            names = {actor["name"]: actor["state"] for actor in body.get("actors", [])}
            wanted = {f"watcher:{camera}", f"batcher:{camera}", "detector:0", "analyst:0"}
            ready = wanted <= names.keys() and all(names[n] == "ALIVE" for n in wanted)
            return body if ready else None

        health = await eventually(
            every_actor_alive,
            timeout=60.0,
            what="the supervisor's report via the API",
            interval=0.25,
        )
        assert health["status"] in {"healthy", "degraded"}
        assert {"janitor"} <= {actor["name"] for actor in health["actors"]}

        preview = await client.get("/api/system/cleanup", params={"dry_run": "true"})
        assert preview.status_code == 200, preview.text
        stats = preview.json()
        assert stats["dry_run"] is True and stats["retention_days"] == settings.retention_days
        assert stats["events_deleted"] == 0 and stats["detections_deleted"] == 0

        await write_slowly(
            settings.foscam_base_path / camera / "person.jpg", jpeg_bytes(RED, seed=11)
        )

        async def events():
            params = {"camera_id": camera, "include_superseded": "true"}
            page = (await client.get("/api/events", params=params)).json()
            return page["items"] if len(page["items"]) >= 2 else None

        items = await eventually(
            events, timeout=60.0, what="the fast-path and batch events via the API", interval=0.25
        )
        assert sorted(item["is_fast_path"] for item in items) == [False, True]
        # By default one entry per visit: the final verdict, the preliminary one inside it.
        [visit] = (await client.get("/api/events", params={"camera_id": camera})).json()["items"]
        assert visit["is_fast_path"] is False and visit["preliminary"]["is_fast_path"] is True
        event_id = items[0]["id"]
        detections = (await client.get(f"/api/events/{event_id}/detections")).json()["items"]
        assert [d["object_type"] for d in detections] == ["person"]
        thumbnail = await client.get(f"/api/detections/{detections[0]['id']}/thumbnail")
        assert thumbnail.status_code == 200
        assert thumbnail.headers["content-type"] == "image/jpeg"
