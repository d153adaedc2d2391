"""The Detector's PostgreSQL work: store each image's detections exactly once, keep the ledger.

Exactly once: the image's ``uploads`` row is locked (``SELECT ... FOR UPDATE``) and its
``processed_at`` says whether the image's detections are stored; the detections and that mark commit
in one transaction (one per detector batch, for all of its images). A redelivered job (a crash
between commit and XACK, a hand-over to the Batcher that failed, two replicas racing on one claimed
entry) finds the mark and reads the stored ids back instead of inserting again. ``processed_at``
rather than ``status = 'done'``: a job whose detections were stored but whose hand-over never
succeeded ends ``failed``, and a requeue from the dead-letter queue must still not store them twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Detection as DetectionRow
from homesec.models import Upload, UploadStatus
from homesec.pipeline.batching import StoredDetection
from homesec.pipeline.retry import describe_error
from homesec.pipeline.structs import Detection


class ImageDetections(msgspec.Struct, frozen=True, kw_only=True):
    """What one image yielded, ready to store."""

    camera_id: str
    file_path: str
    sha256: str | None
    file_type: str
    detections: list[Detection]
    thumbnail_paths: list[str | None]  # one per detection


class StoredImage(msgspec.Struct, frozen=True, kw_only=True):
    detections: list[StoredDetection]
    created: bool  # False: an earlier attempt stored them; these were read back


async def already_stored(
    sessions: async_sessionmaker[AsyncSession], file_paths: Sequence[str]
) -> dict[str, list[StoredDetection]]:
    """The files among ``file_paths`` whose detections are stored, with those detections.

    A cheap check before decoding, so a redelivered batch skips the model; :func:`store_image`
    still decides under the row lock. An upload among them marked ``failed`` (its hand-over gave
    up, and it was requeued from the dead-letter queue) is ``done`` again: its detections are
    stored, which is what ``done`` says, and the hand-over is retried like any redelivery's.
    """
    if not file_paths:
        return {}
    async with sessions.begin() as session:
        rows = (
            await session.execute(
                select(Upload.file_path, Upload.status).where(
                    Upload.file_path.in_(file_paths), Upload.processed_at.is_not(None)
                )
            )
        ).all()
        stored: dict[str, list[StoredDetection]] = {path: [] for path, _ in rows}
        if not stored:
            return {}
        for path, detection in await _stored_detections(session, list(stored)):
            stored[path].append(detection)
        revived = [path for path, status in rows if status == UploadStatus.FAILED]
        if revived:
            await session.execute(
                update(Upload)
                .where(Upload.file_path.in_(revived), Upload.status == UploadStatus.FAILED)
                .values(status=UploadStatus.DONE, error=None)
            )
    return stored


async def _stored_detections(
    session: AsyncSession, file_paths: Sequence[str]
) -> list[tuple[str, StoredDetection]]:
    rows = await session.execute(
        select(
            DetectionRow.file_path,
            DetectionRow.id,
            DetectionRow.object_type,
            DetectionRow.confidence,
        )
        .where(DetectionRow.file_path.in_(file_paths))
        .order_by(DetectionRow.id)
    )
    return [
        (path, StoredDetection(detection_id, object_type or "", confidence or 0.0))
        for path, detection_id, object_type, confidence in rows.all()
    ]


async def store_image(
    sessions: async_sessionmaker[AsyncSession], image: ImageDetections, now: dt.datetime
) -> StoredImage:
    """:func:`store_images` for one image."""
    [stored] = await store_images(sessions, [image], now)
    return stored


async def store_images(
    sessions: async_sessionmaker[AsyncSession], images: Sequence[ImageDetections], now: dt.datetime
) -> list[StoredImage]:
    """Insert the images' detections and mark their uploads done, all in one transaction; for
    an image an earlier attempt stored, return what that attempt stored. In the order of
    ``images``, which must name each file once.

    One transaction per detector batch rather than per image: the round trips and the commit
    are paid once. One bad image (its camera deleted: a foreign-key violation) fails them all,
    so the caller retries image by image to find it.
    """
    paths = [image.file_path for image in images]
    if len(set(paths)) != len(paths):
        raise ValueError("store_images: each file once per call")
    if not images:
        return []
    async with sessions.begin() as session:
        processed = await _lock_uploads(session, images)
        earlier: dict[str, list[StoredDetection]] = {
            path: [] for path in paths if processed[path] is not None
        }
        if earlier:
            for path, detection in await _stored_detections(session, list(earlier)):
                earlier[path].append(detection)
        fresh = [image for image in images if image.file_path not in earlier]
        created = await _insert_detections(session, fresh, now)
        if fresh:
            await session.execute(
                update(Upload)
                .where(Upload.file_path.in_([image.file_path for image in fresh]))
                .values(
                    status=UploadStatus.DONE,
                    processed_at=now,
                    attempts=Upload.attempts + 1,
                    error=None,
                )
            )
    return [
        StoredImage(detections=earlier[image.file_path], created=False)
        if image.file_path in earlier
        else StoredImage(detections=created[image.file_path], created=True)
        for image in images
    ]


async def _insert_detections(
    session: AsyncSession, images: Sequence[ImageDetections], now: dt.datetime
) -> dict[str, list[StoredDetection]]:
    """One multi-row INSERT for every detection of ``images``; the stored ones by file."""
    stored: dict[str, list[StoredDetection]] = {image.file_path: [] for image in images}
    found = [(image, detection) for image in images for detection in image.detections]
    if not found:
        return stored
    rows = [
        {
            "camera_id": image.camera_id,
            "file_path": image.file_path,
            "file_type": image.file_type,
            "detected_at": now,
            "object_type": detection.object_type,
            "confidence": detection.confidence,
            "bbox_x": detection.bbox.x,
            "bbox_y": detection.bbox.y,
            "bbox_width": detection.bbox.width,
            "bbox_height": detection.bbox.height,
            "thumbnail_path": thumbnail,
        }
        for image in images
        for detection, thumbnail in zip(image.detections, image.thumbnail_paths, strict=True)
    ]
    ids = await session.scalars(
        insert(DetectionRow).returning(DetectionRow.id, sort_by_parameter_order=True), rows
    )
    for (image, detection), detection_id in zip(found, ids.all(), strict=True):
        stored[image.file_path].append(
            StoredDetection(detection_id, detection.object_type, detection.confidence)
        )
    return stored


async def _lock_uploads(
    session: AsyncSession, images: Sequence[ImageDetections]
) -> dict[str, dt.datetime | None]:
    """Lock the images' ledger rows, creating those of jobs that came without one (a job from
    the reference implementation, or queued by hand); their ``processed_at`` by file."""
    paths = sorted(image.file_path for image in images)
    # FOR UPDATE: a second replica holding the same job waits here until the first commits,
    # then sees processed_at set. Locked in path order, so two replicas locking overlapping
    # batches cannot deadlock.
    locked = (
        select(Upload.file_path, Upload.processed_at)
        .where(Upload.file_path.in_(paths))
        .order_by(Upload.file_path)
        .with_for_update()
    )
    processed = {row.file_path: row.processed_at for row in await session.execute(locked)}
    missing = [image for image in images if image.file_path not in processed]
    if missing:
        await session.execute(
            insert(Upload)
            .values(
                [
                    {
                        "camera_id": image.camera_id,
                        "file_path": image.file_path,
                        "sha256": image.sha256,
                        "status": UploadStatus.QUEUED,
                    }
                    for image in missing
                ]
            )
            .on_conflict_do_nothing(index_elements=[Upload.file_path])
        )
        processed = {row.file_path: row.processed_at for row in await session.execute(locked)}
    return processed


async def mark_upload_failed(
    sessions: async_sessionmaker[AsyncSession], file_path: str, error: BaseException | str
) -> None:
    """The job went to the dead-letter queue: say so in the ledger, with the error."""
    async with sessions.begin() as session:
        await session.execute(
            update(Upload)
            .where(Upload.file_path == file_path)
            .values(
                status=UploadStatus.FAILED,
                error=describe_error(error),
                attempts=Upload.attempts + 1,
            )
        )
