"""The whole pipeline on real Ray, PostgreSQL and Redis: start it, feed it, read what it made.

For tests/e2e and the tests of what runs on the pipeline (tests/test_ops/test_backfill.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import ray
import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors.ray_gateway import create_actor
from homesec.contract import actor_names, keys
from homesec.contract.reports import ActorSpec
from homesec.models import Detection, Event, Upload
from homesec.settings import Settings
from tests.support.settings import make_settings


def e2e_settings(data_dir: Path, **env: str) -> Settings:
    """Fast timings, the scripted detector and the rules engine (the edges of the world)."""
    base = {
        "FOSCAM_BASE_PATH": str(data_dir / "cameras"),
        "DETECTOR_MODEL": "scripted",
        "LLM_ENGINE": "rules",
        "UPLOAD_SETTLE_SECONDS": "0.5",
        "MIN_IMAGE_BYTES": "100",
        "BATCH_WINDOW_SECONDS": "6",
        "BATCH_IDLE_TIMEOUT_SECONDS": "2",
        "FAST_PATH_COOLDOWN_SECONDS": "300",
        "DETECTOR_BATCH_WAIT_MS": "20",
        "MAX_RETRIES": "5",
        "RETRY_BASE_SECONDS": "0.2",
        # No FTP server: these tests drop files into the folders (tests/test_ftp test FTP).
        "FTP_ENABLED": "false",
    }
    return make_settings(data_dir, env={**base, **env})


def unique_camera(prefix: str) -> str:
    """Camera names unique to one test: pub/sub channels are shared by every test session."""
    return f"{prefix}_{secrets.token_hex(3)}"


async def write_slowly(path: Path, data: bytes, chunks: int = 6, gap: float = 0.1) -> None:
    """Write ``data`` chunk by chunk, as a slow FTP upload does; the file is closed at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    step = max(1, len(data) // chunks)
    with path.open("wb") as handle:
        for start in range(0, len(data), step):
            handle.write(data[start : start + step])
            handle.flush()
            os.fsync(handle.fileno())
            await asyncio.sleep(gap)


@contextlib.asynccontextmanager
async def running_pipeline(
    settings: Settings, database_url: str, redis_url: str, cycle_seconds: float = 1.0
) -> AsyncIterator[object]:
    """The supervisor (which starts every other actor) on the test session's Ray cluster."""
    spec = ActorSpec(
        name=actor_names.SUPERVISOR,
        kind="supervisor",
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
        tuning={"cycle_seconds": cycle_seconds},
    )
    supervisor = create_actor(spec)
    try:
        yield supervisor
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(supervisor.shutdown.remote(), 60)
        ray.kill(supervisor, no_restart=True)


async def uploads_by_status(sessions: async_sessionmaker[AsyncSession], camera_ids) -> dict:
    async with sessions() as session:
        rows = await session.execute(
            select(Upload.status, func.count())
            .where(Upload.camera_id.in_(list(camera_ids)))
            .group_by(Upload.status)
        )
        return dict(rows.all())


async def events_of(sessions: async_sessionmaker[AsyncSession], camera_ids) -> list[Event]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Event).where(Event.camera_id.in_(list(camera_ids))).order_by(Event.id)
        )
        return list(rows.all())


async def detections_of(sessions: async_sessionmaker[AsyncSession], camera_ids) -> list[Detection]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Detection)
            .where(Detection.camera_id.in_(list(camera_ids)))
            .order_by(Detection.id)
        )
        return list(rows.all())


class EventListener:
    """Collects ``security_events`` messages for some cameras (the channel is server-wide)."""

    def __init__(self, redis: aioredis.Redis, camera_ids) -> None:
        self.redis = redis
        self.camera_ids = set(camera_ids)
        self.messages: list[dict] = []
        self._task: asyncio.Task | None = None
        self._pubsub = redis.pubsub()

    async def __aenter__(self) -> EventListener:
        await self._pubsub.subscribe(keys.SECURITY_EVENTS)
        self._task = asyncio.create_task(self._collect())
        return self

    async def _collect(self) -> None:
        async for message in self._pubsub.listen():
            if message.get("type") != "message":
                continue
            payload = json.loads(message["data"])
            if payload.get("data", {}).get("camera_id") in self.camera_ids:
                self.messages.append(payload)

    def of_type(self, kind: str) -> list[dict]:
        return [message for message in self.messages if message.get("type") == kind]

    async def __aexit__(self, *_exc) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._pubsub.aclose()


def decode(payload: str):
    return msgspec.json.decode(payload)
