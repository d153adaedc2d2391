"""The ``detections`` table: store each image's detections exactly once, and read them back.

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
from collections.abc import Iterable, Sequence

import msgspec
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import BoundingBox, Detection, DetectionSummary
from homesec.contract.jobs import AnalysisJob, StoredDetection
from homesec.models import Detection as DetectionRow
from homesec.policy.backfill_plan import is_reanalysis_batch
from homesec.policy.stationary import Spot
from homesec.store import cameras, event_holds, events, uploads
from homesec.store.uploads import any_path, chunks

# A detector may store a row without a class or score; the model is told so rather than
# the batch failing on it.
UNKNOWN_OBJECT_TYPE = "unknown"


class ImageDetections(msgspec.Struct, frozen=True, kw_only=True):
    """What one image yielded, ready to store."""

    camera_id: str
    file_path: str
    sha256: str | None
    file_type: str
    detections: list[Detection]
    thumbnail_paths: list[str | None]  # one per detection
    # When the picture was taken (the job's); None: the ledger row's ``captured_at`` is used.
    captured_at: dt.datetime | None = None
    # The names of the camera's zones holding each detection (one list per detection); None:
    # in none.
    zones: list[list[str]] | None = None
    # Each detection's spot: when it was first seen, and whether it stayed put (a parked car).
    # None: not judged (none is stationary).
    spots: list[Spot] | None = None


class StoredImage(msgspec.Struct, frozen=True, kw_only=True):
    detections: list[StoredDetection]
    created: bool  # False: an earlier attempt stored them; these were read back


# --- the detector ------------------------------------------------------------------------------
async def already_stored(
    sessions: async_sessionmaker[AsyncSession], file_paths: Sequence[str]
) -> dict[str, list[StoredDetection]]:
    """The files among ``file_paths`` whose detections are stored, with those detections.

    A cheap check before decoding, so a redelivered batch skips the model; :func:`store_images`
    still decides under the row lock. An upload among them marked ``failed`` (its hand-over gave
    up, and it was requeued from the dead-letter queue) is ``done`` again: its detections are
    stored, which is what ``done`` says, and the hand-over is retried like any redelivery's.
    """
    if not file_paths:
        return {}
    async with sessions.begin() as session:
        rows = await uploads.processed_in(session, file_paths)
        stored: dict[str, list[StoredDetection]] = {path: [] for path, _ in rows}
        if not stored:
            return {}
        for path, detection in await _stored_detections(session, list(stored)):
            stored[path].append(detection)
        await uploads.revive_failed_in(
            session, [path for path, status in rows if status == uploads.UploadStatus.FAILED]
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
            DetectionRow.stationary,
        )
        .where(DetectionRow.file_path.in_(file_paths))
        .order_by(DetectionRow.id)
    )
    return [
        (path, StoredDetection(detection_id, object_type or "", confidence or 0.0, stationary))
        for path, detection_id, object_type, confidence, stationary in rows.all()
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
        locked = await uploads.lock_for_detection(
            session, [uploads.Claim(i.camera_id, i.file_path, i.sha256) for i in images]
        )
        earlier: dict[str, list[StoredDetection]] = {
            path: [] for path in paths if locked[path].processed_at is not None
        }
        if earlier:
            for path, detection in await _stored_detections(session, list(earlier)):
                earlier[path].append(detection)
        fresh = [
            image
            if image.captured_at is not None
            else msgspec.structs.replace(image, captured_at=locked[image.file_path].captured_at)
            for image in images
            if image.file_path not in earlier
        ]
        created = await _insert_detections(session, fresh, now)
        await uploads.mark_done_in(session, [image.file_path for image in fresh], now)
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
            "captured_at": image.captured_at,
            "object_type": detection.object_type,
            "confidence": detection.confidence,
            "bbox_x": detection.bbox.x,
            "bbox_y": detection.bbox.y,
            "bbox_width": detection.bbox.width,
            "bbox_height": detection.bbox.height,
            "thumbnail_path": thumbnail,
            "zones": zones,
            "stationary": spot is not None and spot.stationary,
            "spot_since": spot.since if spot is not None else None,
        }
        for image in images
        for detection, thumbnail, zones, spot in zip(
            image.detections,
            image.thumbnail_paths,
            image.zones if image.zones is not None else [[] for _ in image.detections],
            image.spots if image.spots is not None else [None for _ in image.detections],
            strict=True,
        )
    ]
    ids = await session.scalars(
        insert(DetectionRow).returning(DetectionRow.id, sort_by_parameter_order=True), rows
    )
    for (image, detection), detection_id, row in zip(found, ids.all(), rows, strict=True):
        stored[image.file_path].append(
            StoredDetection(
                detection_id, detection.object_type, detection.confidence, row["stationary"]
            )
        )
    return stored


# --- the analyst and the batcher ---------------------------------------------------------------
class StoredBatch(msgspec.Struct, frozen=True, kw_only=True):
    """What is left in PostgreSQL of one batch: its camera's name and its detections."""

    camera_name: str
    detections: list[DetectionSummary]  # oldest first; never empty
    camera_role: str | None = None  # as set for the camera; None: guessed when scoring


async def load_batch(
    sessions: async_sessionmaker[AsyncSession], job: AnalysisJob
) -> StoredBatch | None:
    """The job's camera and those of its detections that still exist and no other batch event
    holds; None when none are left (retention cleanup, the camera was deleted, or every one
    is already in an event)."""
    if not job.detection_ids:
        return None
    async with sessions() as session:
        return await batch_in(session, job)


async def batch_in(session: AsyncSession, job: AnalysisJob) -> StoredBatch | None:
    """:func:`load_batch` in the caller's transaction."""
    if not job.detection_ids:
        return None
    camera = await cameras.camera_name_and_role_in(session, job.camera_id)
    if camera is None:
        return None
    camera_name, camera_role = camera
    detections = await summaries_in(session, job.camera_id, job.detection_ids)
    if detections and not job.is_fast_path and not is_reanalysis_batch(job.batch_id):
        # A batch rebuilt after Redis lost its state may repeat detections that an event
        # already holds: those stay where they are, so no detection is in two events. A
        # backfill's reanalysis repeats them on purpose (a new event beside the old one).
        covered = await events.already_covered(
            session,
            job.camera_id,
            [d.detection_id for d in detections],
            detections[0].happened_at,
            except_batch=job.batch_id,
        )
        detections = [d for d in detections if d.detection_id not in covered]
    if not detections:
        return None
    return StoredBatch(camera_name=camera_name, detections=detections, camera_role=camera_role)


def summary(row: DetectionRow) -> DetectionSummary:
    """What an LLM is told of one stored detection."""
    box = (row.bbox_x, row.bbox_y, row.bbox_width, row.bbox_height)
    return DetectionSummary(
        detection_id=row.id,
        object_type=row.object_type or UNKNOWN_OBJECT_TYPE,
        confidence=row.confidence if row.confidence is not None else 0.0,
        detected_at=row.detected_at,
        bbox=BoundingBox(*box) if all(value is not None for value in box) else None,
        image=row.file_path or "",
        captured_at=row.captured_at,
        zones=list(row.zones or []),
    )


def happened_at() -> ColumnElement[dt.datetime]:
    """When a detection's picture was taken: ``captured_at``, else (rows from before migration
    0008) ``detected_at``."""
    return func.coalesce(DetectionRow.captured_at, DetectionRow.detected_at)


async def summaries_in(
    session: AsyncSession, camera_id: str, detection_ids: Sequence[int]
) -> list[DetectionSummary]:
    """Those of ``detection_ids`` that still exist and belong to the camera, in the order the
    pictures were taken."""
    rows = await session.scalars(
        select(DetectionRow)
        .where(DetectionRow.id.in_(list(detection_ids)), DetectionRow.camera_id == camera_id)
        .order_by(happened_at(), DetectionRow.id)
    )
    return [summary(row) for row in rows]


async def uncovered_detections(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, since: dt.datetime
) -> list[StoredDetection]:
    """The camera's detections since ``since`` that no batch event holds, oldest first."""
    covered = events.covered_ids(camera_id, since).subquery()
    async with sessions() as session:
        rows = await session.execute(
            select(DetectionRow.id, DetectionRow.object_type, DetectionRow.confidence)
            .where(
                DetectionRow.camera_id == camera_id,
                DetectionRow.detected_at >= since,
                # A parked car opens no visit, after Redis lost its data neither.
                DetectionRow.stationary.is_(False),
                DetectionRow.id.not_in(select(covered.c[0])),
            )
            .order_by(DetectionRow.detected_at, DetectionRow.id)
        )
        return [
            StoredDetection(detection_id, object_type or UNKNOWN_OBJECT_TYPE, confidence or 0.0)
            for detection_id, object_type, confidence in rows.all()
        ]


# --- the backfill ------------------------------------------------------------------------------
async def paths_with_detections(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    async with sessions() as session:
        for chunk in chunks(paths):
            rows = await session.scalars(
                select(DetectionRow.file_path)
                .where(DetectionRow.file_path == any_path(chunk))
                .distinct()
            )
            found.update(rows.all())
    return found


async def count_for_paths(sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]) -> int:
    total = 0
    async with sessions() as session:
        for chunk in chunks(paths):
            total += await session.scalar(
                select(func.count())
                .select_from(DetectionRow)
                .where(DetectionRow.file_path == any_path(chunk))
            )
    return total


async def existing_ids(sessions: async_sessionmaker[AsyncSession], ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    unique = sorted(set(ids))
    async with sessions() as session:
        for chunk in chunks(unique):
            rows = await session.scalars(select(DetectionRow.id).where(DetectionRow.id.in_(chunk)))
            found.update(rows.all())
    return found


class ResetUpload(msgspec.Struct, frozen=True):
    upload_id: int
    sha256: str | None
    thumbnails: list[str]  # of the deleted detections: the caller removes the files


async def reset_for_reprocess(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, path: str
) -> ResetUpload | None:
    """Delete the image's detections and mark its upload ``queued`` with no ``processed_at``,
    in one transaction, so the detector computes them afresh instead of reading them back.
    None when a detector holds the upload right now (it was queued again meanwhile)."""
    async with sessions.begin() as session:
        requeued = await uploads.requeue_for_reprocess_in(session, camera_id, path)
        if requeued is None:
            return None
        thumbnails = await delete_for_file_in(session, path)
    return ResetUpload(requeued.upload_id, requeued.sha256, thumbnails)


async def delete_for_file_in(session: AsyncSession, path: str) -> list[str]:
    """Delete the image's detections; the thumbnails they named (the caller removes the files)."""
    deleted = await session.scalars(
        delete(DetectionRow)
        .where(DetectionRow.file_path == path)
        .returning(DetectionRow.thumbnail_path)
    )
    return [thumbnail for thumbnail in deleted.all() if thumbnail]


# --- retention and the disk guard --------------------------------------------------------------
def expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    """Processed before the cutoff and not listed by a held event."""
    return and_(DetectionRow.detected_at < cutoff, ~event_holds.detection_is_held())


def _stays(cutoff: dt.datetime) -> ColumnElement[bool]:
    return or_(DetectionRow.detected_at >= cutoff, event_holds.detection_is_held())


async def expired_files_in(
    session: AsyncSession, cutoff: dt.datetime
) -> list[tuple[str | None, str]]:
    """(thumbnail path, image path) of each expired detection, distinct."""
    rows = await session.execute(
        select(DetectionRow.thumbnail_path, DetectionRow.file_path)
        .where(expired(cutoff))
        .distinct()
    )
    return [(thumbnail, path) for thumbnail, path in rows.all()]


def thumbnails_kept(thumbnails: Iterable[str], cutoff: dt.datetime):
    """SELECT of those ``thumbnails`` a detection that stays names."""
    return select(DetectionRow.thumbnail_path).where(
        _stays(cutoff), DetectionRow.thumbnail_path == any_path(thumbnails)
    )


def images_kept(paths: Iterable[str], cutoff: dt.datetime):
    """SELECT of those image ``paths`` a detection that stays names."""
    return select(DetectionRow.file_path).where(
        _stays(cutoff), DetectionRow.file_path == any_path(paths)
    )


async def referenced_thumbnails(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> set[str]:
    """Those ``paths`` some detection row names as its thumbnail."""
    if not paths:
        return set()
    async with sessions() as session:
        rows = await session.scalars(
            select(DetectionRow.thumbnail_path).where(
                DetectionRow.thumbnail_path == any_path(paths)
            )
        )
        return set(rows.all())


async def held_files(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    """The thumbnails and originals of every detection a held event lists: the disk guard
    leaves them alone too."""
    async with sessions() as session:
        rows = await session.execute(
            select(DetectionRow.thumbnail_path, DetectionRow.file_path).where(
                event_holds.detection_is_held()
            )
        )
        return {path for row in rows.all() for path in row if path}


async def clear_thumbnail_paths(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> int:
    """Detections stop naming these thumbnails (committed before the files go)."""
    if not paths:
        return 0
    async with sessions.begin() as session:
        result = await session.execute(
            update(DetectionRow)
            .where(DetectionRow.thumbnail_path == any_path(paths))
            .values(thumbnail_path=None),
            execution_options={"synchronize_session": False},
        )
    return result.rowcount
