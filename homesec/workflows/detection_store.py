"""What the detection workflow writes: a batch's detections (one transaction, image by image when
it fails), their ``detection.new`` messages, the uploads of disabled cameras, latency samples.

Each function is one step of :mod:`homesec.workflows.detection`; the decisions are in
:mod:`homesec.policy.detection_policy`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Collection, Sequence

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.jobs import DetectionJob, StoredDetection
from homesec.policy.detection_messages import detection_new_message
from homesec.policy.detection_policy import latency_samples, one_by_one_after
from homesec.policy.stationary import NewFrame, StationaryPolicy, mark_frames
from homesec.store import cameras as store_cameras
from homesec.store import detections as store_detections
from homesec.store import event_channel, uploads
from homesec.store import stationary as store_stationary
from homesec.store.detections import ImageDetections, StoredImage
from homesec.store.outages import as_outage
from homesec.store.telemetry import record_latencies

log = logging.getLogger("homesec.detector")


async def store_batch(
    sessions: async_sessionmaker[AsyncSession],
    images: Sequence[ImageDetections],
    now: dt.datetime,
    name: str,
) -> list[StoredImage | Exception]:
    """The batch's detections, and its uploads marked done, in one transaction (exactly once:
    an image an earlier attempt stored is read back). If that fails, image by image, so one bad
    image (its camera deleted meanwhile) fails alone: what each image came to, in order, or the
    error that stopped it. PostgreSQL being away raises (image by image would fail the same
    way)."""
    try:
        return list(await store_detections.store_images(sessions, images, now))
    except Exception as exc:
        if as_outage(exc) is not None:
            raise
        if not one_by_one_after(len(images)):
            return [exc]
        log.info("%s: batch store failed (%s); storing image by image", name, exc)
        return list(
            await asyncio.gather(
                *(store_detections.store_image(sessions, image, now) for image in images),
                return_exceptions=True,
            )
        )


async def with_stationary_marks(
    sessions: async_sessionmaker[AsyncSession],
    images: Sequence[ImageDetections],
    now: dt.datetime,
    policy: StationaryPolicy,
) -> list[ImageDetections]:
    """The images with each detection's spot (when it was first seen; whether it stayed put, a
    parked car), judged against the cameras' recent frames and detections: one read for the
    batch. When that read fails for another reason than an outage, every detection counts (a
    missed parked car costs a visit; a missed passer-by would cost an alarm)."""
    if not policy.enabled or not any(image.detections for image in images):
        return list(images)
    # Only what was processed within the forget time: one bounded read, however old the
    # pictures. A backlog's frames were processed together and still find each other; an old
    # picture reprocessed alone (a backfill) finds no neighbours and counts, the safe side.
    since = now - dt.timedelta(seconds=policy.forget_seconds)
    try:
        memory = await store_stationary.recent_memory(
            sessions, {image.camera_id for image in images if image.detections}, since
        )
    except Exception as exc:
        if as_outage(exc) is not None:
            raise
        log.warning("could not read the cameras' recent detections: %s", exc)
        return list(images)
    by_camera: dict[str, list[int]] = {}
    for index, image in enumerate(images):
        if image.detections:
            by_camera.setdefault(image.camera_id, []).append(index)
    marked = list(images)
    for camera_id, indexes in by_camera.items():
        new = [
            NewFrame(
                frame=images[i].file_path,
                at=images[i].captured_at or now,
                boxes=[(d.object_type, d.bbox) for d in images[i].detections],
            )
            for i in indexes
        ]
        seen = memory[camera_id]
        spots = mark_frames(seen.sightings, seen.frames, new, policy)
        for i, found in zip(indexes, spots, strict=True):
            marked[i] = msgspec.structs.replace(images[i], spots=found)
    return marked


async def mark_disabled_done(
    sessions: async_sessionmaker[AsyncSession],
    jobs: Sequence[DetectionJob],
    stored: Collection[str],
    now: dt.datetime,
) -> list[str]:
    """The uploads of disabled cameras (the dashboard's switch) among ``jobs`` not ``stored``:
    kept, their ledger rows ``done``, not analysed. One small query per batch; their paths."""
    pending = [job for job in jobs if job.file_path not in stored]
    disabled = await store_cameras.disabled_among(sessions, {job.camera_id for job in pending})
    paths = [job.file_path for job in pending if job.camera_id in disabled]
    if paths:
        async with sessions.begin() as session:
            await uploads.mark_done_in(session, paths, now)
    return paths


async def publish(
    redis: aioredis.Redis,
    found: Sequence[tuple[DetectionJob, list[StoredDetection]]],
    detected_at: dt.datetime,
    name: str,
) -> None:
    """Tell live clients, one message per image with detections, in one round trip for the
    batch; best effort, the rows are the record."""
    messages = [
        detection_new_message(job.camera_id, job.file_path, detections, detected_at)
        for job, detections in found
        if detections
    ]
    try:
        await event_channel.publish_many(redis, messages)
    except Exception as exc:
        log.warning("%s: could not publish detections: %s", name, exc)


async def record_latency(
    redis: aioredis.Redis, jobs: Sequence[DetectionJob], now: dt.datetime
) -> None:
    """Upload accepted -> detections stored and handed over, per image, for telemetry."""
    try:
        samples = latency_samples([job.timestamp for job in jobs], now)
        await record_latencies(redis, "detection", samples)
    except (ValueError, RedisError, OSError) as exc:  # a lost sample must not fail a batch
        log.debug("latency sample lost: %s", exc)


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession], job: DetectionJob, error: BaseException, name: str
) -> None:
    """The upload's ledger row ``failed`` with the error, once its job is dead-lettered."""
    try:
        await uploads.mark_failed(sessions, job.file_path, error)
    except Exception as exc:  # the database may be why it failed; the DLQ has the job
        log.warning("%s: could not mark %s failed: %s", name, job.file_path, exc)
