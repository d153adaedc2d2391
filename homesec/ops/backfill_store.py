"""The backfill's PostgreSQL work: what the ledger and the tables know of the selected files and
events, replacing an image's detections, and how far the queued work has come."""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec
from sqlalchemy import String, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors.camera_registry import CameraFolder, registered_cameras
from homesec.actors.watcher_files import FileSeen, ledger_path
from homesec.models import Detection, Event, Upload, UploadStatus
from homesec.pipeline.backfill_plan import (
    REANALYSIS_PREFIX,
    BackfillInputError,
    EventFacts,
    FileFacts,
    TimeWindow,
)
from homesec.pipeline.cameras import InvalidCameraId, normalize_camera_id

# Rows whose detector may be at work: the backfill leaves them alone.
DETECTOR_OWNED = (UploadStatus.QUEUED, UploadStatus.PROCESSING)
# Paths per query: one array parameter each, well within what a statement should carry.
CHUNK = 1000


def _any_path(paths: Sequence[str]):
    return any_(bindparam("paths", list(paths), type_=ARRAY(String)))


def _chunks(items: Sequence, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def select_cameras(
    sessions: async_sessionmaker[AsyncSession], wanted: Sequence[str]
) -> list[CameraFolder]:
    """The registered cameras named in ``wanted`` (folder names or ids), or all of them."""
    cameras = sorted(await registered_cameras(sessions), key=lambda camera: camera.camera_id)
    if not wanted:
        return cameras
    by_id = {camera.camera_id: camera for camera in cameras}
    chosen: dict[str, CameraFolder] = {}
    for name in wanted:
        try:
            camera_id = normalize_camera_id(name)
        except InvalidCameraId:
            camera_id = name
        if camera_id not in by_id:
            known = ", ".join(by_id) or "none yet"
            raise BackfillInputError(f"--camera {name}: no such camera (known: {known})")
        chosen[camera_id] = by_id[camera_id]
    return list(chosen.values())


async def file_facts(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, files: Sequence[FileSeen]
) -> list[FileFacts]:
    """Each file with its ledger row's status and size and whether detections name it."""
    paths = [ledger_path(seen.path) for seen in files]
    rows: dict[str, tuple[str, int | None]] = {}
    detected: set[str] = set()
    async with sessions() as session:
        for chunk in _chunks(paths):
            result = await session.execute(
                select(Upload.file_path, Upload.status, Upload.file_size).where(
                    Upload.file_path == _any_path(chunk)
                )
            )
            rows.update((path, (status, size)) for path, status, size in result.all())
            found = await session.scalars(
                select(Detection.file_path)
                .where(Detection.file_path == _any_path(chunk))
                .distinct()
            )
            detected.update(found.all())
    facts = []
    for seen, path in zip(files, paths, strict=True):
        status, ledger_size = rows.get(path, (None, None))
        facts.append(
            FileFacts(
                camera_id=camera_id,
                path=seen.path,
                size=seen.size,
                mtime=seen.mtime,
                status=status,
                ledger_size=ledger_size,
                has_detections=path in detected,
            )
        )
    return facts


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
        # The row lock orders us with a detector storing this very image (it locks it too).
        row = (
            await session.execute(
                select(Upload.id, Upload.status, Upload.sha256)
                .where(Upload.file_path == path)
                .with_for_update()
            )
        ).one_or_none()
        if row is not None and row.status in DETECTOR_OWNED:
            return None
        deleted = await session.scalars(
            delete(Detection).where(Detection.file_path == path).returning(Detection.thumbnail_path)
        )
        thumbnails = [thumbnail for thumbnail in deleted.all() if thumbnail]
        if row is None:  # detections stored without a ledger (the reference implementation)
            upload_id = await session.scalar(
                insert(Upload)
                .values(camera_id=camera_id, file_path=path, status=UploadStatus.QUEUED)
                .returning(Upload.id)
            )
            return ResetUpload(upload_id, None, thumbnails)
        await session.execute(
            update(Upload)
            .where(Upload.id == row.id)
            .values(status=UploadStatus.QUEUED, processed_at=None, error=None, attempts=0)
        )
    return ResetUpload(row.id, row.sha256, thumbnails)


async def upload_statuses(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> dict[str, str]:
    """The ledger status of each of ``paths`` that has a row."""
    statuses: dict[str, str] = {}
    async with sessions() as session:
        for chunk in _chunks(paths):
            result = await session.execute(
                select(Upload.file_path, Upload.status).where(Upload.file_path == _any_path(chunk))
            )
            statuses.update((path, status) for path, status in result.all())
    return statuses


async def count_detections(sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]) -> int:
    total = 0
    async with sessions() as session:
        for chunk in _chunks(paths):
            total += await session.scalar(
                select(func.count())
                .select_from(Detection)
                .where(Detection.file_path == _any_path(chunk))
            )
    return total


# --- events ---------------------------------------------------------------------------------


def _detection_ids(text: str | None) -> list[int]:
    """The event's ``detection_ids`` JSON array; unreadable text names none."""
    try:
        values = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, int) and not isinstance(value, bool)]


async def original_events(
    sessions: async_sessionmaker[AsyncSession], camera_ids: Sequence[str], window: TimeWindow
) -> list[EventFacts]:
    """The cameras' events that started in ``window``, except those a reanalysis made."""
    since, until = window.bounds()
    query = select(
        Event.batch_id,
        Event.camera_id,
        Event.is_fast_path,
        Event.detection_ids,
        Event.started_at,
        Event.ended_at,
    ).where(Event.camera_id.in_(list(camera_ids)), Event.batch_id.not_like(f"{REANALYSIS_PREFIX}%"))
    if since is not None:
        query = query.where(Event.started_at >= since)
    if until is not None:
        query = query.where(Event.started_at < until)
    async with sessions() as session:
        rows = (await session.execute(query.order_by(Event.started_at, Event.id))).all()
    return [
        EventFacts(
            batch_id=row.batch_id,
            camera_id=row.camera_id,
            is_fast_path=row.is_fast_path,
            detection_ids=_detection_ids(row.detection_ids),
            started_at=row.started_at.timestamp(),
            ended_at=row.ended_at.timestamp() if row.ended_at is not None else None,
        )
        for row in rows
    ]


async def existing_detection_ids(
    sessions: async_sessionmaker[AsyncSession], ids: Sequence[int]
) -> set[int]:
    found: set[int] = set()
    unique = sorted(set(ids))
    async with sessions() as session:
        for chunk in _chunks(unique):
            found.update(
                (await session.scalars(select(Detection.id).where(Detection.id.in_(chunk)))).all()
            )
    return found


async def existing_batch_ids(
    sessions: async_sessionmaker[AsyncSession], batch_ids: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    async with sessions() as session:
        for chunk in _chunks(list(batch_ids)):
            rows = await session.scalars(select(Event.batch_id).where(Event.batch_id.in_(chunk)))
            found.update(rows.all())
    return found
