"""The CameraWatcher's PostgreSQL work: the ``uploads`` ledger, its log rows, the camera's row.

Who owns a ledger row: the watcher writes ``queued``, ``duplicate`` and ``rejected``; once a row
is ``queued`` or ``processing`` the detector owns it, and the watcher's upserts leave it alone.
A row the watcher finished (``rejected``, ``duplicate``) or the detector finished (``done``,
``failed``) is rewritten only when the file at that path changed: a rejected file whose content
is now valid, or a path overwritten with new content (a camera reusing ``snapshot.jpg``).
``processed_at`` stays NULL here: the detector reads it as "detections stored".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import msgspec
from sqlalchemy import String, and_, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors.watcher_files import FileSeen, ledger_path
from homesec.models import Camera, Log, Upload, UploadStatus

COMPONENT = "watcher"  # logs.component of every record the watcher writes

DETECTOR_OWNED = (UploadStatus.QUEUED, UploadStatus.PROCESSING)


class LedgerRow(msgspec.Struct, frozen=True):
    id: int
    file_path: str
    status: str
    sha256: str | None
    file_size: int | None


class ScanPlan(msgspec.Struct, frozen=True):
    fresh: list[FileSeen]  # no row, or rejected and changed since: validate (again)
    requeue: list[LedgerRow]  # queued or processing: put on the stream again


def plan_scan(files: Iterable[FileSeen], rows: Iterable[LedgerRow]) -> ScanPlan:
    """What a scan does with the files it found and the ledger rows it read (pure).

    A rejected file is looked at again only when its size differs from the rejected one (it was
    rewritten); ``done``, ``duplicate``, ``failed`` and unchanged ``rejected`` files are skipped.
    Every ``queued`` / ``processing`` row is requeued, whether or not its file is still there:
    the detector records a vanished file as failed, so the ledger does not keep it queued.
    """
    rows = list(rows)
    by_path = {row.file_path: row for row in rows}
    fresh = []
    for seen in files:
        row = by_path.get(ledger_path(seen.path))
        if row is None or (row.status == UploadStatus.REJECTED and row.file_size != seen.size):
            fresh.append(seen)
    requeue = [row for row in rows if row.status in DETECTOR_OWNED]
    return ScanPlan(fresh=fresh, requeue=requeue)


def _paths_param(paths: Sequence[str]):
    # One array parameter, not an IN list: a folder may hold more files than asyncpg's limit of
    # 32767 parameters per statement.
    return any_(bindparam("paths", list(paths), type_=ARRAY(String)))


async def rows_for_scan(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, paths: Sequence[str]
) -> list[LedgerRow]:
    """One query: the rows of these paths, and every row of the camera the detector owns."""
    statement = select(
        Upload.id, Upload.file_path, Upload.status, Upload.sha256, Upload.file_size
    ).where(
        or_(
            Upload.file_path == _paths_param(paths),
            and_(Upload.camera_id == camera_id, Upload.status.in_(DETECTOR_OWNED)),
        )
    )
    async with sessions() as session:
        return [LedgerRow(*row) for row in (await session.execute(statement)).all()]


async def rows_for_paths(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> list[LedgerRow]:
    statement = select(
        Upload.id, Upload.file_path, Upload.status, Upload.sha256, Upload.file_size
    ).where(Upload.file_path == _paths_param(paths))
    async with sessions() as session:
        return [LedgerRow(*row) for row in (await session.execute(statement)).all()]


def _upsert(rows: Sequence[Mapping[str, object]], *, only_if_changed: bool):
    """INSERT each row, or rewrite the existing one unless the detector owns it; with
    ``only_if_changed``, also leave it when it already holds this content (a file touched
    but not changed). RETURNING id and file_path of the rows written. Each path once."""
    statement = insert(Upload).values(list(rows))
    excluded = statement.excluded
    condition = Upload.status.not_in(DETECTOR_OWNED)
    if only_if_changed:
        condition = and_(
            condition,
            or_(
                Upload.status == UploadStatus.REJECTED,
                Upload.sha256.is_distinct_from(excluded.sha256),
            ),
        )
    return statement.on_conflict_do_update(
        index_elements=[Upload.file_path],
        set_={
            "camera_id": excluded.camera_id,
            "sha256": excluded.sha256,
            "file_size": excluded.file_size,
            "status": excluded.status,
            "error": excluded.error,
            "attempts": 0,
            "received_at": func.now(),
            "processed_at": None,
        },
        where=condition,
    ).returning(Upload.id, Upload.file_path)


def _seen(camera_id: str, seen_at: dt.datetime):
    # GREATEST: files found late (after a restart) never move last_seen_at backwards.
    return (
        update(Camera)
        .where(Camera.id == camera_id)
        .values(last_seen_at=func.greatest(func.coalesce(Camera.last_seen_at, seen_at), seen_at))
    )


class ValidUpload(msgspec.Struct, frozen=True, kw_only=True):
    """A file that passed validation, for the ledger."""

    file_path: str
    sha256: str
    file_size: int
    seen_at: dt.datetime  # when the camera uploaded it


class Recorded(msgspec.Struct, frozen=True):
    queued: dict[str, int]  # file path -> upload id, for the rows written ``queued``
    duplicates: set[str]  # file paths of the rows written ``duplicate``


async def record_valid(
    sessions: async_sessionmaker[AsyncSession],
    camera_id: str,
    uploads: Sequence[ValidUpload],
    originals: Sequence[str | None],
) -> Recorded:
    """Valid uploads, in one transaction: ``queued`` rows for the new ones (``originals`` None),
    ``duplicate`` rows naming the original for the rest, and the camera's ``last_seen_at`` (the
    camera did upload, duplicates too). A path whose row already holds this content, or that the
    detector owns, is left alone and is in neither set of the answer."""
    queued: list[dict[str, object]] = []
    duplicates: list[dict[str, object]] = []
    for upload, original in zip(uploads, originals, strict=True):
        row = {
            "camera_id": camera_id,
            "file_path": upload.file_path,
            "sha256": upload.sha256,
            "file_size": upload.file_size,
        }
        if original is None:
            queued.append(row | {"status": UploadStatus.QUEUED, "error": None})
        else:
            duplicates.append(
                row | {"status": UploadStatus.DUPLICATE, "error": f"duplicate of {original}"}
            )
    if not uploads:
        return Recorded({}, set())
    async with sessions.begin() as session:
        queued_ids = {}
        if queued:
            written = await session.execute(_upsert(queued, only_if_changed=True))
            queued_ids = {path: upload_id for upload_id, path in written}
        duplicate_paths = set()
        if duplicates:
            written = await session.execute(_upsert(duplicates, only_if_changed=True))
            duplicate_paths = {path for _, path in written}
        await session.execute(_seen(camera_id, max(upload.seen_at for upload in uploads)))
    return Recorded(queued_ids, duplicate_paths)


async def record_rejected(
    sessions: async_sessionmaker[AsyncSession],
    *,
    camera_id: str,
    file_path: str,
    reason: str,
    message: str,
    log_message: str,
    sha256: str | None,
    file_size: int | None,
) -> bool:
    """A ``rejected`` row with ``"{reason}: {message}"`` and a WARNING log record, in one
    transaction; neither when the detector owns the path's row."""
    values = {
        "camera_id": camera_id,
        "file_path": file_path,
        "sha256": sha256,
        "file_size": file_size,
        "status": UploadStatus.REJECTED,
        "error": f"{reason}: {message}",
    }
    async with sessions.begin() as session:
        written = (await session.execute(_upsert([values], only_if_changed=False))).first()
        if written is None:
            return False
        session.add(
            Log(
                level="WARNING",
                component=COMPONENT,
                camera_id=camera_id,
                message=log_message,
                extra={"reason": reason, "file_path": file_path},
            )
        )
    return True


class CameraState(msgspec.Struct, frozen=True):
    status: str | None
    last_seen_at: float | None  # epoch seconds


async def camera_state(sessions: async_sessionmaker[AsyncSession], camera_id: str) -> CameraState:
    async with sessions() as session:
        row = (
            await session.execute(
                select(Camera.status, Camera.last_seen_at).where(Camera.id == camera_id)
            )
        ).one_or_none()
    if row is None:
        return CameraState(None, None)
    last_seen = row.last_seen_at.timestamp() if row.last_seen_at is not None else None
    return CameraState(row.status, last_seen)


async def record_camera_status(
    sessions: async_sessionmaker[AsyncSession],
    *,
    camera_id: str,
    status: str,
    previous: str | None,
    reason: str,
) -> None:
    """The camera's new status, and a log record of the change, in one transaction."""
    level = "INFO" if status == "online" else "WARNING"
    async with sessions.begin() as session:
        await session.execute(update(Camera).where(Camera.id == camera_id).values(status=status))
        session.add(
            Log(
                level=level,
                component=COMPONENT,
                camera_id=camera_id,
                message=f"camera {camera_id} is {status} (was {previous}): {reason}",
                extra={"status": status, "previous_status": previous, "reason": reason},
            )
        )
