"""Faults while images flow: killed actors and a Redis that loses everything lose nothing and
duplicate nothing. Every valid upload ends done exactly once; every detection lands in exactly
one batch event."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
import ray

from homesec.actors import ray_gateway
from homesec.contract import actor_names
from homesec.contract.actor_names import NAMESPACE
from tests.e2e.faults import (
    all_processed,
    assert_exactly_once,
    every_detection_batched,
    write_images,
)
from tests.support.live_pipeline import (
    e2e_settings,
    running_pipeline,
    unique_camera,
    uploads_by_status,
)
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]

IMAGES = 200


async def actor_pid(name: str, timeout: float = 60) -> int:
    """The process of the actor ``name``, once it answers: an actor killed a moment ago may
    still be restarting (the flow outruns a restart)."""
    deadline = time.monotonic() + timeout
    while True:
        handle = ray.get_actor(name, namespace=NAMESPACE)
        try:
            health = await ray_gateway.health(handle, 30.0)
        except (ray.exceptions.ActorUnavailableError, ray.exceptions.RayActorError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
            continue
        return int(health.detail["pid"])


async def diagnose(sessions, cameras) -> str:
    """What a stuck flow left behind: ledger states and errors, warnings, dead letters."""
    from sqlalchemy import func, select

    from homesec.models import Log, Upload

    async with sessions() as session:
        uploads = await session.execute(
            select(Upload.status, Upload.error, func.count())
            .where(Upload.camera_id.in_(cameras))
            .group_by(Upload.status, Upload.error)
        )
        warnings = await session.scalars(
            select(Log.message).where(Log.level != "INFO").order_by(Log.id.desc()).limit(15)
        )
        return f"uploads: {uploads.all()}\nwarnings: {warnings.all()}"


class Flow:
    """200 images flowing through the running pipeline while a test does harm to it."""

    def __init__(self, supervisor, cameras: list[str], sessions) -> None:
        self.supervisor = supervisor
        self.cameras = cameras
        self.sessions = sessions
        self.report = None  # the supervisor's report once the flow is through

    async def processed(self, count: int) -> None:
        async def at_least() -> bool:
            statuses = await uploads_by_status(self.sessions, self.cameras)
            return statuses.get("done", 0) >= count

        await eventually(at_least, timeout=60.0, what=f"{count} uploads processed", interval=0.25)

    async def restarts(self, name: str) -> int:
        report = await self.supervisor.report.options(concurrency_group="health").remote()
        return next((actor.restarts for actor in report.actors if actor.name == name), 0)

    @contextlib.asynccontextmanager
    async def restart_seen(self, name: str):
        """Around one kill of ``name``: returns once the supervisor counted its restart."""
        before = await self.restarts(name)
        yield

        async def counted() -> bool:
            return await self.restarts(name) > before

        await eventually(
            counted, timeout=60, what=f"the supervisor saw {name} restart", interval=0.25
        )


async def flow_with_faults(database_url, redis_url, sessions, tmp_path: Path, harm) -> Flow:
    """Run the flow with ``harm(flow)`` happening meanwhile; then check that every upload was
    done once and every detection is in exactly one batch event."""
    settings = e2e_settings(tmp_path, BATCH_WINDOW_SECONDS="4", BATCH_IDLE_TIMEOUT_SECONDS="1")
    cameras = [unique_camera("yard"), unique_camera("gate")]
    for camera in cameras:
        (settings.foscam_base_path / camera).mkdir(parents=True)
    async with running_pipeline(settings, database_url, redis_url) as supervisor:
        # Two watchers, two batchers, the detector, the analyst, a GPU monitor, the janitor.
        await eventually(
            lambda: _alive(supervisor, 8), timeout=60.0, what="every actor alive", interval=0.25
        )
        flow = Flow(supervisor, cameras, sessions)
        writer = asyncio.create_task(
            write_images(settings.foscam_base_path, cameras, IMAGES, pace=0.02)
        )
        await harm(flow)
        expected = await writer
        try:
            statuses = await eventually(
                lambda: all_processed(sessions, cameras, IMAGES),
                timeout=240,
                what="all done",
                interval=0.25,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await diagnose(sessions, cameras)}") from None
        outcome = await eventually(
            lambda: every_detection_batched(sessions, cameras),
            timeout=120,
            what="every detection in a batch event",
            interval=0.25,
        )
        flow.report = await supervisor.report.options(concurrency_group="health").remote()
    assert statuses == {"done": IMAGES}
    assert_exactly_once(*outcome, IMAGES, expected)
    return flow


async def test_killed_actors_lose_and_duplicate_nothing(
    ray_cluster, migrated_database_url, redis_url, db_sessions, tmp_path: Path
):
    async def kill_actors(flow: Flow) -> None:
        # Ray kills (restarted in place) and SIGKILLs of the worker processes, mid-flow. Each
        # kill of the detector and the analyst waits until the supervisor saw the restart, so
        # two kills are never folded into one check (the supervisor checks every few seconds).
        def actor(name: str):
            return ray.get_actor(name, namespace=NAMESPACE)

        detector, analyst = actor_names.detector(0), actor_names.analyst(0)
        await flow.processed(30)
        async with flow.restart_seen(detector):
            ray.kill(actor(detector), no_restart=False)
        await flow.processed(60)
        os.kill(await actor_pid(actor_names.batcher(flow.cameras[0])), signal.SIGKILL)
        async with flow.restart_seen(analyst):
            ray.kill(actor(analyst), no_restart=False)
        await flow.processed(100)
        async with flow.restart_seen(detector):
            os.kill(await actor_pid(detector), signal.SIGKILL)
        async with flow.restart_seen(analyst):
            os.kill(await actor_pid(analyst), signal.SIGKILL)
        ray.kill(actor(actor_names.batcher(flow.cameras[1])), no_restart=False)

    flow = await flow_with_faults(
        migrated_database_url, redis_url, db_sessions, tmp_path, kill_actors
    )
    restarts = {actor.name: actor.restarts for actor in flow.report.actors}
    assert restarts[actor_names.detector(0)] == 2 and restarts[actor_names.analyst(0)] == 2


async def test_a_redis_that_loses_everything_loses_no_upload(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path: Path
):
    async def flush_redis(flow: Flow) -> None:
        await flow.processed(50)
        await redis_client.flushdb()  # queues, groups, batch state, dedupe keys: all gone
        await flow.processed(120)
        await redis_client.flushdb()  # and once more

    await flow_with_faults(migrated_database_url, redis_url, db_sessions, tmp_path, flush_redis)


async def _alive(supervisor, expected: int) -> bool:
    report = await supervisor.report.options(concurrency_group="health").remote()
    return sum(actor.state == "ALIVE" for actor in report.actors) >= expected
