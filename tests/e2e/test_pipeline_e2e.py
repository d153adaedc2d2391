"""End to end: JPEGs written slowly into camera folders become events and live messages."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.support.images import BLUE, RED, jpeg_bytes
from tests.support.live_pipeline import (
    EventListener,
    detections_of,
    e2e_settings,
    events_of,
    running_pipeline,
    unique_camera,
    uploads_by_status,
    write_slowly,
)
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]


async def test_uploads_in_two_folders_become_events_with_one_fast_path(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path)
    porch, drive = unique_camera("porch"), unique_camera("drive")
    for camera in (porch, drive):
        (settings.foscam_base_path / camera).mkdir(parents=True)
    cameras = (porch, drive)

    async with (
        EventListener(redis_client, cameras) as listener,
        running_pipeline(settings, migrated_database_url, redis_url) as supervisor,
    ):
        await eventually(
            lambda: _all_alive(supervisor, 2 * len(cameras) + 2),
            timeout=60.0,
            what="every actor alive",
            interval=0.25,
        )
        # Two people at the porch (the second within the fast path's cooldown), a car outside.
        await asyncio.gather(
            write_slowly(
                settings.foscam_base_path / porch / "snap_001.jpg", jpeg_bytes(RED, seed=1)
            ),
            write_slowly(
                settings.foscam_base_path / drive / "snap_001.jpg", jpeg_bytes(BLUE, seed=2)
            ),
        )
        await asyncio.sleep(0.3)
        await write_slowly(
            settings.foscam_base_path / porch / "2025-12-23" / "snap_002.jpg",
            jpeg_bytes(RED, seed=3),
        )

        async def three_events():
            events = await events_of(db_sessions, cameras)
            return events if len(events) >= 3 else None

        events = await eventually(three_events, timeout=60, what="three events", interval=0.25)
        await eventually(
            lambda: _count(listener.of_type("event"), 3),
            timeout=10,
            what="three event messages",
            interval=0.25,
        )

    assert await uploads_by_status(db_sessions, cameras) == {"done": 3}
    detections = await detections_of(db_sessions, cameras)
    assert sorted((d.camera_id, d.object_type) for d in detections) == sorted(
        [(porch, "person"), (porch, "person"), (drive, "car")]
    )
    for detection in detections:
        assert detection.file_path.startswith(str(settings.foscam_base_path))
        with Image.open(detection.thumbnail_path) as thumbnail:
            assert thumbnail.format == "JPEG"
            assert thumbnail.width <= 320 and thumbnail.height <= 240

    fast = [event for event in events if event.is_fast_path]
    batched = [event for event in events if not event.is_fast_path]
    assert len(fast) == 1 and fast[0].camera_id == porch, "fast path fires once in its cooldown"
    assert {event.camera_id for event in batched} == {porch, drive}
    porch_batch = next(event for event in batched if event.camera_id == porch)
    # One visit, one verdict: the porch's batch event supersedes its fast-path event.
    assert porch_batch.supersedes_event_id == fast[0].id
    assert porch_batch.scored_by_engine == "rules" and porch_batch.prompt_version
    porch_ids = sorted(d.id for d in detections if d.camera_id == porch)
    assert sorted(json.loads(porch_batch.detection_ids)) == porch_ids
    for event in events:
        assert 0 <= event.risk_score <= 100
        assert event.risk_level in {"low", "medium", "high", "critical"}
        assert event.summary and event.reasoning
    # Two cameras within INCIDENT_WINDOW_SECONDS: one incident holds every verdict of both.
    assert porch_batch.incident_id is not None
    assert {event.incident_id for event in events} == {porch_batch.incident_id}
    messages = listener.of_type("event")
    assert sorted(m["data"]["batch_id"] for m in messages) == sorted(e.batch_id for e in events)
    assert len(listener.of_type("detection.new")) == 3


async def _all_alive(supervisor, expected: int) -> bool:
    report = await supervisor.report.options(concurrency_group="health").remote()
    alive = [actor for actor in report.actors if actor.state == "ALIVE"]
    return len(alive) >= expected


async def _count(items: list, expected: int) -> bool:
    return len(items) >= expected
