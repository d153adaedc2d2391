"""Fixtures of the CameraWatcher's tests (test_camera_watcher.py, test_watcher_upload_finished.py):
a camera, its folder, the watcher's settings, and watchers started in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path

import pytest

from homesec.actors.camera_watcher import CameraWatcher
from tests.support.settings import make_settings
from tests.support.watcher import SETTLE_SECONDS


@pytest.fixture
def camera_id() -> str:
    # Pub/sub channels are shared by every Redis database: a unique camera to filter on.
    return f"cam-{secrets.token_hex(3)}"


@pytest.fixture
def folder(tmp_path: Path, camera_id: str) -> Path:
    path = tmp_path / "cameras" / camera_id
    path.mkdir(parents=True)
    return path


@pytest.fixture
def watcher_settings(tmp_path: Path):
    def make(**overrides: str):
        return make_settings(
            tmp_path / "data",
            env={
                "FOSCAM_BASE_PATH": str(tmp_path / "cameras"),
                "UPLOAD_SETTLE_SECONDS": str(SETTLE_SECONDS),
                "MIN_IMAGE_BYTES": "100",
                **overrides,
            },
        )

    return make


@pytest.fixture
async def start_watcher(migrated_database_url, redis_url, db_sessions, redis_client, camera_id):
    """Start CameraWatchers in this loop; every one is stopped at the end of the test."""
    running: list[tuple[CameraWatcher, asyncio.Task]] = []

    async def start(settings, folder: Path, **options) -> CameraWatcher:
        watcher = CameraWatcher(
            f"watcher:{camera_id}",
            settings,
            migrated_database_url,
            redis_url,
            camera_id,
            str(folder),
            **options,
        )
        running.append((watcher, asyncio.create_task(watcher.run())))
        return watcher

    async def stop(watcher: CameraWatcher) -> None:
        for known, task in running:
            if known is watcher:
                await watcher.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    start.stop = stop
    yield start
    for watcher, _ in running:
        await stop(watcher)
