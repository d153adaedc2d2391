"""The supervisor itself dying: killed through Ray (then `homesec up`'s keeper makes it again) or
its worker SIGKILLed (then Ray restarts it). Either way it comes back and goes on reconciling:
a ledger row that no queue holds is put back on the queue and done."""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

import pytest
import ray
from sqlalchemy import select, update

from homesec.actors import ray_gateway
from homesec.actors.supervisor_keeper import SupervisorKeeper
from homesec.contract import actor_names
from homesec.contract.reports import ActorSpec
from homesec.models import Upload
from tests.support.images import RED, jpeg_bytes
from tests.support.live_pipeline import e2e_settings, unique_camera
from tests.support.waiting import eventually

pytestmark = [pytest.mark.ray, pytest.mark.slow]


async def plant_stranded_upload(sessions, camera: str, folder: Path, name: str) -> str:
    """An image on disk whose ledger row says queued, long ago, while no queue holds its job.
    The row comes first: the watcher then leaves the file to the detector, which owns the row."""
    path = folder / name
    async with sessions.begin() as session:
        session.add(Upload(camera_id=camera, file_path=str(path), status="queued"))
        await session.flush()
        await session.execute(
            update(Upload)
            .where(Upload.file_path == str(path))
            .values(received_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
        )
    path.write_bytes(jpeg_bytes(RED, size=(320, 240), seed=len(name)))
    return str(path)


def done(sessions, path: str):
    async def check() -> bool:
        return await status_of(sessions, path) == "done"

    return check


async def status_of(sessions, path: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Upload.status).where(Upload.file_path == path))


async def test_a_killed_supervisor_comes_back_and_reconciles_again(
    ray_cluster, migrated_database_url, redis_url, db_sessions, tmp_path: Path
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("porch")
    folder = settings.foscam_base_path / camera
    folder.mkdir(parents=True)
    spec = ActorSpec(
        name=actor_names.SUPERVISOR,
        kind="supervisor",
        settings=settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        # cycle 1 s, reconcile every second the rows older than a second
        tuning={"cycle_seconds": 1.0, "reconcile_seconds": 1.0, "stranded_after_seconds": 1.0},
    )
    keeper = SupervisorKeeper(spec)
    try:

        async def watching() -> bool:
            report = await ray_gateway.call(keeper.handle, "report", health_group=True)
            return any(
                a.name == actor_names.watcher(camera) and a.state == "ALIVE" for a in report.actors
            )

        await eventually(watching, timeout=120, what="the camera's watcher alive", interval=0.25)
        # The watcher registered the camera; the image it scanned at start is not there yet.

        # 1. Killed for good through Ray: the keeper notices and makes a new one.
        ray.kill(keeper.handle, no_restart=True)

        async def recreated() -> bool:
            return keeper.check()

        await eventually(
            recreated, timeout=30, what="the keeper re-creating the supervisor", interval=0.25
        )
        assert keeper.recreated == 1
        first = await plant_stranded_upload(db_sessions, camera, folder, "lost-1.jpg")

        await eventually(
            done(db_sessions, first), timeout=90, what="the stranded upload done", interval=0.25
        )

        # 2. Its worker SIGKILLed: Ray restarts it in place; nothing for the keeper to do.
        health = await ray_gateway.health(keeper.handle, 30.0)
        os.kill(int(health.detail["pid"]), signal.SIGKILL)
        second = await plant_stranded_upload(db_sessions, camera, folder, "lost-22.jpg")
        await eventually(
            done(db_sessions, second), timeout=90, what="the second one done", interval=0.25
        )
        assert keeper.check() is False and keeper.recreated == 1
        restarted = await ray_gateway.health(keeper.handle, 30.0)
        assert restarted.detail["pid"] != health.detail["pid"]
        assert restarted.counters["requeued_stranded"] == 1  # the reconciler did it
    finally:
        try:
            await ray_gateway.call(keeper.handle, "shutdown", timeout=60)
        finally:
            ray_gateway.kill(keeper.handle)
