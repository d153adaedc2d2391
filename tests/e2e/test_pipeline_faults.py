"""Faults while images flow: killed actors and a Redis that loses everything lose nothing and
duplicate nothing. Every valid upload ends done exactly once; every detection lands in exactly
one batch event."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
from pathlib import Path

import pytest
import ray

from homesec.actors import names
from homesec.actors.factory import health_call
from homesec.ops.ray_runtime import NAMESPACE
from tests.e2e.harness import (
    BLUE,
    GREY,
    RED,
    detections_of,
    e2e_settings,
    events_of,
    jpeg_bytes,
    running_pipeline,
    unique_camera,
    uploads_by_status,
    wait_for,
)

pytestmark = [pytest.mark.ray, pytest.mark.slow]

IMAGES = 200
COLOURS = (RED, BLUE, GREY, BLUE)  # persons, cars, nothing


async def write_images(base: Path, cameras: list[str], count: int, pace: float) -> int:
    """``count`` distinct JPEGs round-robin into the cameras' folders; returns how many will
    yield a detection (the scripted engine sees red and blue)."""
    expected = 0
    for index in range(count):
        colour = COLOURS[index % len(COLOURS)]
        expected += colour != GREY
        camera = cameras[index % len(cameras)]
        path = base / camera / f"img_{index:04d}.jpg"
        path.write_bytes(jpeg_bytes(colour, size=(320, 240), seed=index))
        await asyncio.sleep(pace)
    return expected


async def all_processed(sessions, cameras, total: int):
    statuses = await uploads_by_status(sessions, cameras)
    return statuses if statuses.get("done", 0) >= total else None


async def every_detection_batched(sessions, cameras):
    detections = await detections_of(sessions, cameras)
    events = await events_of(sessions, cameras)
    batched = collections.Counter(
        detection_id
        for event in events
        if not event.is_fast_path
        for detection_id in json.loads(event.detection_ids)
    )
    ids = {detection.id for detection in detections}
    return (detections, events, batched) if ids and set(batched) >= ids else None


def assert_exactly_once(detections, events, batched, total_uploads, expected_detections):
    per_file = collections.Counter(detection.file_path for detection in detections)
    assert len(per_file) == expected_detections, "one detection per red or blue image"
    assert set(per_file.values()) == {1}, "no image was detected twice"
    assert set(batched.values()) == {1}, "no detection is in two batch events"
    assert len({event.batch_id for event in events}) == len(events)


async def actor_pid(name: str) -> int:
    handle = ray.get_actor(name, namespace=NAMESPACE)
    health = await health_call(handle)
    return int(health.detail["pid"])


async def test_killed_actors_lose_and_duplicate_nothing(
    ray_cluster, migrated_database_url, redis_url, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path, BATCH_WINDOW_SECONDS="4", BATCH_IDLE_TIMEOUT_SECONDS="1")
    cameras = [unique_camera("yard"), unique_camera("gate")]
    for camera in cameras:
        (settings.foscam_base_path / camera).mkdir(parents=True)

    async with running_pipeline(settings, migrated_database_url, redis_url) as supervisor:
        await wait_for(lambda: _alive(supervisor, 6), what="every actor alive")
        writer = asyncio.create_task(
            write_images(settings.foscam_base_path, cameras, IMAGES, pace=0.02)
        )

        async def processed_at_least(count: int):
            return (await uploads_by_status(db_sessions, cameras)).get("done", 0) >= count

        # Faults while images flow: Ray kills (restarted in place) and SIGKILLs of workers.
        await wait_for(lambda: processed_at_least(30), what="30 uploads processed")
        ray.kill(ray.get_actor(names.detector(0), namespace=NAMESPACE), no_restart=False)
        await wait_for(lambda: processed_at_least(60), what="60 uploads processed")
        os.kill(await actor_pid(names.batcher(cameras[0])), signal.SIGKILL)
        ray.kill(ray.get_actor(names.analyst(0), namespace=NAMESPACE), no_restart=False)
        await wait_for(lambda: processed_at_least(100), what="100 uploads processed")
        os.kill(await actor_pid(names.detector(0)), signal.SIGKILL)
        os.kill(await actor_pid(names.analyst(0)), signal.SIGKILL)
        ray.kill(ray.get_actor(names.batcher(cameras[1]), namespace=NAMESPACE), no_restart=False)

        expected = await writer
        statuses = await wait_for(
            lambda: all_processed(db_sessions, cameras, IMAGES), timeout=240, what="all done"
        )
        outcome = await wait_for(
            lambda: every_detection_batched(db_sessions, cameras),
            timeout=120,
            what="every detection in a batch event",
        )
        report = await supervisor.report.options(concurrency_group="health").remote()

    assert statuses == {"done": IMAGES}
    assert_exactly_once(*outcome, IMAGES, expected)
    restarts = {actor.name: actor.restarts for actor in report.actors}
    assert restarts[names.detector(0)] >= 1 and restarts[names.analyst(0)] >= 1


async def test_a_redis_that_loses_everything_loses_no_upload(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path, BATCH_WINDOW_SECONDS="4", BATCH_IDLE_TIMEOUT_SECONDS="1")
    cameras = [unique_camera("shed"), unique_camera("lane")]
    for camera in cameras:
        (settings.foscam_base_path / camera).mkdir(parents=True)

    async with running_pipeline(settings, migrated_database_url, redis_url) as supervisor:
        await wait_for(lambda: _alive(supervisor, 6), what="every actor alive")
        writer = asyncio.create_task(
            write_images(settings.foscam_base_path, cameras, IMAGES, pace=0.02)
        )

        async def processed_at_least(count: int):
            return (await uploads_by_status(db_sessions, cameras)).get("done", 0) >= count

        await wait_for(lambda: processed_at_least(50), what="50 uploads processed")
        await redis_client.flushdb()  # queues, groups, batch state, dedupe keys: all gone
        expected = await writer
        await wait_for(lambda: processed_at_least(120), what="120 uploads processed")
        await redis_client.flushdb()  # and once more, after the writer finished
        statuses = await wait_for(
            lambda: all_processed(db_sessions, cameras, IMAGES), timeout=240, what="all done"
        )
        outcome = await wait_for(
            lambda: every_detection_batched(db_sessions, cameras),
            timeout=120,
            what="every detection in a batch event",
        )

    assert statuses == {"done": IMAGES}
    assert_exactly_once(*outcome, IMAGES, expected)


async def _alive(supervisor, expected: int) -> bool:
    report = await supervisor.report.options(concurrency_group="health").remote()
    return sum(actor.state == "ALIVE" for actor in report.actors) >= expected
