"""The ``uploads`` ledger: one row per file a camera uploaded, the durable truth of the intake.

Who owns a row: the watcher writes ``queued``, ``duplicate`` and ``rejected``; once a row is
``queued`` or ``processing`` the detector owns it, and the watcher's upserts leave it alone. A row
the watcher finished (``rejected``, ``duplicate``) or the detector finished (``done``, ``failed``)
is rewritten only when the file at that path changed: a rejected file whose content is now valid,
or a path overwritten with new content (a camera reusing ``snapshot.jpg``). ``processed_at`` is
the detector's: it reads it as "detections stored" (see :mod:`.detections`), so it stays NULL
until they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import msgspec
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.enums import UploadStatus
from homesec.models import Detection, Upload
from homesec.policy.retry import describe_error
from homesec.policy.uploads import DETECTOR_OWNED, LedgerRow
from homesec.store import cameras, event_holds, logs

COMPONENT = "watcher"  # logs.component of the rows the watcher writes with its ledger rows

# Ledger states nobody works on any more.
FINISHED = (UploadStatus.DONE, UploadStatus.DUPLICATE, UploadStatus.REJECTED, UploadStatus.FAILED)
# Paths per query when a caller may pass very many: one array parameter each.
CHUNK = 1000


def any_path(paths: Iterable[str], name: str = "paths"):
    """``column == any_path(paths)``: one array parameter, not an IN list: a folder may hold more
    files than asyncpg's limit of 32767 parameters per statement."""
    return any_(bindparam(name, list(paths), type_=ARRAY(String), unique=True))


def chunks(items: Sequence, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the watcher's side ------------------------------------------------------------------------
async def rows_for_scan(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, paths: Sequence[str]
) -> list[LedgerRow]:
    """One query: the rows of these paths, and every row of the camera the detector owns."""
    statement = select(
        Upload.id, Upload.file_path, Upload.status, Upload.sha256, Upload.file_size
    ).where(
        or_(
            Upload.file_path == any_path(paths),
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
    ).where(Upload.file_path == any_path(paths))
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
            "captured_at": excluded.captured_at,
            "status": excluded.status,
            "error": excluded.error,
            "attempts": 0,
            "received_at": func.now(),
            "processed_at": None,
        },
        where=condition,
    ).returning(Upload.id, Upload.file_path)


class ValidUpload(msgspec.Struct, frozen=True, kw_only=True):
    """A file that passed validation, for the ledger."""

    file_path: str
    sha256: str
    file_size: int
    seen_at: dt.datetime  # when the camera uploaded it
    captured_at: dt.datetime | None = None  # when the picture was taken (capture_time.py)


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
            "captured_at": upload.captured_at,
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
        await session.execute(
            cameras.mark_seen(camera_id, max(upload.seen_at for upload in uploads))
        )
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
        logs.add_in(
            session,
            level="WARNING",
            component=COMPONENT,
            camera_id=camera_id,
            message=log_message,
            extra={"reason": reason, "file_path": file_path},
        )
    return True


class RejectedUploads(msgspec.Struct, frozen=True):
    count: int
    last_at: dt.datetime


async def rejected_uploads_in(
    session: AsyncSession, camera_ids: Sequence[str]
) -> dict[str, RejectedUploads]:
    """Per camera among ``camera_ids``: its ``rejected`` rows and the newest one's time; a
    camera without any is absent. Joins the caller's transaction."""
    if not camera_ids:
        return {}
    rows = await session.execute(
        select(Upload.camera_id, func.count(), func.max(Upload.received_at))
        .where(Upload.camera_id.in_(camera_ids), Upload.status == UploadStatus.REJECTED)
        .group_by(Upload.camera_id)
    )
    return {camera: RejectedUploads(count, last) for camera, count, last in rows.all()}


# --- the detector's side -------------------------------------------------------------------------
async def processed_in(session: AsyncSession, paths: Sequence[str]) -> list[tuple[str, str]]:
    """(path, status) of those ``paths`` whose detections are stored (``processed_at`` set)."""
    rows = await session.execute(
        select(Upload.file_path, Upload.status).where(
            Upload.file_path.in_(paths), Upload.processed_at.is_not(None)
        )
    )
    return [(path, status) for path, status in rows.all()]


async def revive_failed_in(session: AsyncSession, paths: Sequence[str]) -> None:
    """``failed`` rows among ``paths`` whose detections are stored are ``done`` again."""
    if paths:
        await session.execute(
            update(Upload)
            .where(Upload.file_path.in_(paths), Upload.status == UploadStatus.FAILED)
            .values(status=UploadStatus.DONE, error=None)
        )


class Claim(msgspec.Struct, frozen=True):
    """A detection job's ledger row as the detector needs it to lock or create it."""

    camera_id: str
    file_path: str
    sha256: str | None


class Locked(msgspec.Struct, frozen=True):
    """A locked ledger row: ``processed_at`` (detections stored) and ``captured_at``."""

    processed_at: dt.datetime | None
    captured_at: dt.datetime | None


async def lock_for_detection(session: AsyncSession, claims: Sequence[Claim]) -> dict[str, Locked]:
    """Lock the jobs' ledger rows, creating those of jobs that came without one (a job from the
    reference implementation, or queued by hand); their ``processed_at`` and ``captured_at``
    by file."""
    paths = sorted(claim.file_path for claim in claims)
    # FOR UPDATE: a second replica holding the same job waits here until the first commits,
    # then sees processed_at set. Locked in path order, so two replicas locking overlapping
    # batches cannot deadlock.
    locked = (
        select(Upload.file_path, Upload.processed_at, Upload.captured_at)
        .where(Upload.file_path.in_(paths))
        .order_by(Upload.file_path)
        .with_for_update()
    )
    processed = {
        row.file_path: Locked(row.processed_at, row.captured_at)
        for row in await session.execute(locked)
    }
    missing = [claim for claim in claims if claim.file_path not in processed]
    if missing:
        await session.execute(
            insert(Upload)
            .values(
                [
                    {
                        "camera_id": claim.camera_id,
                        "file_path": claim.file_path,
                        "sha256": claim.sha256,
                        "status": UploadStatus.QUEUED,
                    }
                    for claim in missing
                ]
            )
            .on_conflict_do_nothing(index_elements=[Upload.file_path])
        )
        processed = {
            row.file_path: Locked(row.processed_at, row.captured_at)
            for row in await session.execute(locked)
        }
    return processed


async def mark_done_in(session: AsyncSession, paths: Sequence[str], now: dt.datetime) -> None:
    """The files' detections are stored: ``done``, ``processed_at`` now, one attempt more."""
    if paths:
        await session.execute(
            update(Upload)
            .where(Upload.file_path.in_(list(paths)))
            .values(
                status=UploadStatus.DONE,
                processed_at=now,
                attempts=Upload.attempts + 1,
                error=None,
            )
        )


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession], file_path: str, error: BaseException | str
) -> None:
    """The job went to the dead-letter queue: say so in the ledger, with the error. A row that
    is ``done`` stays done: its detections are stored, whatever failed after that (handing them
    to a Batcher) does not undo it."""
    async with sessions.begin() as session:
        await session.execute(
            update(Upload)
            .where(Upload.file_path == file_path, Upload.status != UploadStatus.DONE)
            .values(
                status=UploadStatus.FAILED,
                error=describe_error(error),
                attempts=Upload.attempts + 1,
            )
        )


# --- requeues and the reconciler ----------------------------------------------------------------
async def mark_requeued(sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]) -> None:
    """Jobs put back on the detection queue (from the dead-letter queue, or by the reconciler):
    their rows say ``queued`` again; ``error`` keeps the last error until the job is done."""
    if paths:
        async with sessions.begin() as session:
            await session.execute(
                update(Upload)
                .where(Upload.file_path == any_path(paths), Upload.processed_at.is_(None))
                .values(status=UploadStatus.QUEUED)
            )


class Waiting(msgspec.Struct, frozen=True):
    """A ledger row the detector has yet to finish."""

    id: int
    camera_id: str
    file_path: str
    sha256: str | None
    received_at: dt.datetime


async def waiting_since_before(
    sessions: async_sessionmaker[AsyncSession], cutoff: dt.datetime, limit: int = 10_000
) -> list[Waiting]:
    """Rows ``queued`` or ``processing`` that were received before ``cutoff``, oldest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(Upload.id, Upload.camera_id, Upload.file_path, Upload.sha256, Upload.received_at)
            .where(Upload.status.in_(DETECTOR_OWNED), Upload.received_at < cutoff)
            .order_by(Upload.received_at, Upload.id)
            .limit(limit)
        )
        return [Waiting(*row) for row in rows.all()]


# --- the backfill's side -------------------------------------------------------------------------
async def statuses_and_sizes(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> dict[str, tuple[str, int | None]]:
    """(status, file size) of each of ``paths`` that has a row."""
    found: dict[str, tuple[str, int | None]] = {}
    async with sessions() as session:
        for chunk in chunks(paths):
            result = await session.execute(
                select(Upload.file_path, Upload.status, Upload.file_size).where(
                    Upload.file_path == any_path(chunk)
                )
            )
            found.update((path, (status, size)) for path, status, size in result.all())
    return found


async def upload_statuses(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> dict[str, str]:
    """The ledger status of each of ``paths`` that has a row."""
    return {
        path: status for path, (status, _) in (await statuses_and_sizes(sessions, paths)).items()
    }


class Requeued(msgspec.Struct, frozen=True):
    upload_id: int
    sha256: str | None


async def requeue_for_reprocess_in(
    session: AsyncSession, camera_id: str, path: str
) -> Requeued | None:
    """Lock the file's row and mark it ``queued`` with no ``processed_at`` (a row is made for
    detections stored without a ledger, by the reference implementation). None when a detector
    holds the upload right now (it was queued again meanwhile): nothing changed."""
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
    if row is None:
        upload_id = await session.scalar(
            insert(Upload)
            .values(camera_id=camera_id, file_path=path, status=UploadStatus.QUEUED)
            .returning(Upload.id)
        )
        return Requeued(upload_id, None)
    await session.execute(
        update(Upload)
        .where(Upload.id == row.id)
        .values(status=UploadStatus.QUEUED, processed_at=None, error=None, attempts=0)
    )
    return Requeued(row.id, row.sha256)


# --- retention -----------------------------------------------------------------------------------
def expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    """A finished row older than the cutoff whose file no surviving detection uses (one a held
    event lists survives)."""
    still_detected = (
        select(Detection.id)
        .where(
            Detection.file_path == Upload.file_path,
            or_(Detection.detected_at >= cutoff, event_holds.detection_is_held()),
        )
        .exists()
    )
    return and_(Upload.received_at < cutoff, Upload.status.in_(FINISHED), ~still_detected)


class LedgerEntry(msgspec.Struct, frozen=True):
    id: int
    file_path: str


async def expired_in(session: AsyncSession, cutoff: dt.datetime) -> list[LedgerEntry]:
    rows = await session.execute(
        select(Upload.id, Upload.file_path).where(expired(cutoff)).order_by(Upload.id)
    )
    return [LedgerEntry(*row) for row in rows.all()]


def live_paths(paths: Iterable[str], cutoff: dt.datetime):
    """SELECT of those ``paths`` a row that stays (not expired) names."""
    return select(Upload.file_path).where(Upload.file_path == any_path(paths), ~expired(cutoff))


async def forget(
    sessions: async_sessionmaker[AsyncSession], upload_ids: Sequence[int], cutoff: dt.datetime
) -> int:
    """Delete these ledger rows (their files are gone) if they are still expired: a camera may
    have uploaded to the same path since, which rewrote the row."""
    if not upload_ids:
        return 0
    async with sessions.begin() as session:
        result = await session.execute(
            delete(Upload).where(Upload.id.in_(upload_ids), expired(cutoff)),
            execution_options={"synchronize_session": False},
        )
    return result.rowcount


async def explained_paths(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> set[str]:
    """Those of ``paths`` (ledger paths) that a row of the ledger names, whatever its status."""
    found: set[str] = set()
    async with sessions() as session:
        for chunk in chunks(list(paths)):
            statement = select(Upload.file_path).where(Upload.file_path == any_path(chunk))
            found.update((await session.execute(statement)).scalars().all())
    return found


async def finished_paths(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """The originals nobody works on any more: what the disk guard may delete."""
    async with sessions() as session:
        statement = select(Upload.file_path).where(Upload.status.in_(FINISHED))
        return list((await session.execute(statement)).scalars().all())
