"""What the tests of the pipeline's stages share (the Detector, Batcher, Janitor and GPU monitor
actors, and the detection workflow): settings, seeding, starting and stopping, reading the
queues."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
from pathlib import Path

import msgspec
import redis.asyncio as aioredis
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors.base import ServiceActor
from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob, DetectionJob, DlqEntry
from homesec.models import Camera, Upload, UploadStatus
from homesec.settings import Settings
from homesec.store import streams
from tests.support.settings import make_settings

CAMERA = "front_door"


def pipeline_settings(data_dir: Path, **overrides) -> Settings:
    """Settings of a stage's test, FOSCAM_BASE_PATH under ``data_dir``."""
    # Quick retries (0.1-0.8 s): a poison job reaches its dead-letter queue within a test.
    overrides.setdefault("retry_base_seconds", 0.2)
    return make_settings(data_dir, **overrides)


def start(actor: ServiceActor) -> asyncio.Task:
    return asyncio.create_task(actor.run())


async def stop(actor: ServiceActor, task: asyncio.Task | None = None) -> None:
    await actor.stop()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def seed_camera(sessions: async_sessionmaker[AsyncSession], folder: Path) -> None:
    async with sessions.begin() as session:
        session.add(Camera(id=CAMERA, name="Front door", folder_path=str(folder)))


def write_image(
    path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)
) -> bytes:
    """Write a JPEG whose top-left block is ``colour`` (what the scripted engine reads), with a
    bit of structure elsewhere so real models see more than a flat field; return its bytes."""
    image = Image.new("RGB", size, colour)
    image.paste(
        Image.linear_gradient("L").convert("RGB").resize((size[0] // 2, size[1] // 2)),
        (size[0] // 2, size[1] // 2),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=90)
    return path.read_bytes()


async def queue_upload(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, path: Path, data: bytes
) -> DetectionJob:
    """Record ``path`` (holding ``data``) as a queued upload, as the watcher does, and add its
    job to the queue."""
    sha256 = hashlib.sha256(data).hexdigest()
    async with sessions.begin() as session:
        upload = Upload(
            camera_id=CAMERA,
            file_path=str(path),
            sha256=sha256,
            file_size=len(data),
            status=UploadStatus.QUEUED,
        )
        session.add(upload)
        await session.flush()
        upload_id = upload.id
    job = DetectionJob(
        camera_id=CAMERA,
        file_path=str(path),
        timestamp=dt.datetime.now(dt.UTC).isoformat(),
        upload_id=upload_id,
        sha256=sha256,
    )
    await streams.enqueue(redis, keys.DETECTION_QUEUE, job)
    return job


async def analysis_jobs(redis: aioredis.Redis) -> list[AnalysisJob]:
    entries = await redis.xrange(keys.ANALYSIS_QUEUE)
    return [
        msgspec.json.decode(fields[keys.STREAM_FIELD], type=AnalysisJob) for _, fields in entries
    ]


async def dead_letters(redis: aioredis.Redis, queue: str) -> list[DlqEntry]:
    return [
        msgspec.json.decode(item, type=DlqEntry)
        for item in await redis.lrange(keys.dlq(queue), 0, -1)
    ]


async def pending_count(redis: aioredis.Redis) -> int:
    summary = await redis.xpending(keys.DETECTION_QUEUE, keys.DETECTOR_GROUP)
    return int(summary["pending"])


async def all_acknowledged(redis: aioredis.Redis) -> bool:
    """Has the detectors' group been handed every entry of the queue, and acknowledged all?
    (Acknowledged entries are deleted, so that is: the group exists and the stream is empty.)"""
    groups = await redis.xinfo_groups(keys.DETECTION_QUEUE)
    group = next((g for g in groups if g["name"] == keys.DETECTOR_GROUP), None)
    return (
        group is not None
        and int(group["pending"]) == 0
        and await redis.xlen(keys.DETECTION_QUEUE) == 0
    )
