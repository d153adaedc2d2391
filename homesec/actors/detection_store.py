"""The Detector's PostgreSQL work: store each image's detections exactly once, keep the ledger.

Exactly once: the image's ``uploads`` row is locked (``SELECT ... FOR UPDATE``) and its
``processed_at`` says whether the image's detections are stored; the detections and that mark
commit in one transaction. A redelivered job (a crash between commit and XACK, a hand-over to
the Batcher that failed, two replicas racing on one claimed entry) finds the mark and reads the
stored ids back instead of inserting again. ``processed_at`` rather than ``status = 'done'``:
a job whose detections were stored but whose hand-over never succeeded ends ``failed``, and a
requeue from the dead-letter queue must still not store them twice.
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
    """Insert the image's detections and mark its upload done, in one transaction, unless an
    earlier attempt did: then return what that attempt stored."""
    async with sessions.begin() as session:
        processed_at = await _lock_upload(session, image)
        if processed_at is not None:
            stored = await _stored_detections(session, [image.file_path])
            return StoredImage(detections=[detection for _, detection in stored], created=False)
        detections: list[StoredDetection] = []
        if image.detections:
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
                for detection, thumbnail in zip(
                    image.detections, image.thumbnail_paths, strict=True
                )
            ]
            ids = await session.scalars(
                insert(DetectionRow).returning(DetectionRow.id, sort_by_parameter_order=True),
                rows,
            )
            detections = [
                StoredDetection(detection_id, detection.object_type, detection.confidence)
                for detection_id, detection in zip(ids.all(), image.detections, strict=True)
            ]
        await session.execute(
            update(Upload)
            .where(Upload.file_path == image.file_path)
            .values(
                status=UploadStatus.DONE,
                processed_at=now,
                attempts=Upload.attempts + 1,
                error=None,
            )
        )
    return StoredImage(detections=detections, created=True)


async def _lock_upload(session: AsyncSession, image: ImageDetections) -> dt.datetime | None:
    """Lock the image's ledger row, creating it for a job that came without one (a job from
    the reference implementation, or queued by hand); return its ``processed_at``."""
    # FOR UPDATE: a second replica holding the same job waits here until the first commits,
    # then sees processed_at set.
    locked = (
        select(Upload.processed_at).where(Upload.file_path == image.file_path).with_for_update()
    )
    row = (await session.execute(locked)).one_or_none()
    if row is None:
        await session.execute(
            insert(Upload)
            .values(
                camera_id=image.camera_id,
                file_path=image.file_path,
                sha256=image.sha256,
                status=UploadStatus.QUEUED,
            )
            .on_conflict_do_nothing(index_elements=[Upload.file_path])
        )
        row = (await session.execute(locked)).one()
    return row.processed_at


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
