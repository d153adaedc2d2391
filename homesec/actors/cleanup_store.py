"""The Janitor's PostgreSQL work: expired rows out in one transaction, the ledger, log rows.

What goes, by the data-model contract: events (``started_at``), detections (``detected_at``) and
gpu_stats (``recorded_at``) older than ``RETENTION_DAYS``, logs (``timestamp``) older than
``LOG_RETENTION_DAYS``; all four in one transaction (:func:`remove_expired_rows`), which also
reads which files that frees. A dry run reads the same with the same predicates and counts
instead of deleting, so its numbers are what a real run would delete.

Files shared with what stays are kept: a thumbnail path is deterministic per upload path, so a
re-uploaded ``snapshot.jpg`` has new detections with the old ones' thumbnail paths, and an
original image may hold newer detections or a newer ledger row.

**The uploads ledger.** A finished ledger row (``done``, ``duplicate``, ``rejected``,
``failed``) older than the cutoff, whose file no surviving detection uses, is *expired*, but it
is only deleted once its file is gone (:func:`forget_uploads`, after the files were deleted):
the watcher's scan treats a file without a ledger row as a new upload, so dropping the row of a
file still on disk would ingest it again, with fresh detections. With ``DELETE_IMAGES`` the
Janitor deletes the file first and then the row; without it the row stays as long as the file
does (and goes at a later run once the file is gone). A crash between the two leaves a row
without a file, which the watcher ignores and the next run removes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, String, and_, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Detection, Event, GPUStats, Log, Upload, UploadStatus
from homesec.pipeline.retention import RetentionCutoffs

COMPONENT = "janitor"  # logs.component of the Janitor's rows
CLEANUP_KIND = "cleanup"  # logs.extra["kind"] of a real run's report; the schedule reads it back

# Ledger states nobody works on any more; a queued or processing row belongs to the detector.
FINISHED_UPLOADS = (
    UploadStatus.DONE,
    UploadStatus.DUPLICATE,
    UploadStatus.REJECTED,
    UploadStatus.FAILED,
)


class LedgerEntry(msgspec.Struct, frozen=True):
    id: int
    file_path: str


class ExpiredRows(msgspec.Struct, frozen=True, kw_only=True):
    """What one retention pass removed (or would remove) from PostgreSQL, and the files that
    frees: the thumbnails (and originals, with ``DELETE_IMAGES``) nothing that stays uses."""

    events: int
    detections: int
    gpu_stats: int
    logs: int
    thumbnail_paths: list[str]
    image_paths: list[str]
    uploads: list[LedgerEntry]  # expired ledger rows, deleted only once their file is gone


def _any_of(paths: Iterable[str]):
    # One array parameter, not an IN list: asyncpg allows at most 32767 parameters.
    return any_(bindparam("paths", list(paths), type_=ARRAY(String), unique=True))


def _upload_expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    still_detected = (
        select(Detection.id)
        .where(Detection.file_path == Upload.file_path, Detection.detected_at >= cutoff)
        .exists()
    )
    return and_(Upload.received_at < cutoff, Upload.status.in_(FINISHED_UPLOADS), ~still_detected)


def _expired_tables(cutoffs: RetentionCutoffs) -> list[tuple[str, type, ColumnElement[bool]]]:
    return [
        ("detections", Detection, Detection.detected_at < cutoffs.data),
        ("events", Event, Event.started_at < cutoffs.data),
        ("gpu_stats", GPUStats, GPUStats.recorded_at < cutoffs.data),
        ("logs", Log, Log.timestamp < cutoffs.logs),
    ]


async def remove_expired_rows(
    sessions: async_sessionmaker[AsyncSession],
    cutoffs: RetentionCutoffs,
    *,
    with_images: bool,
    dry_run: bool,
) -> ExpiredRows:
    """Delete the expired rows in one transaction (in a dry run: count them, writing nothing)
    and return the counts with the files and ledger rows that frees. Raises when the commit
    fails, before anyone could delete a file."""
    transaction = sessions() if dry_run else sessions.begin()
    async with transaction as session:
        thumbnails, images, uploads = await _freed(session, cutoffs.data, with_images)
        counts: dict[str, int] = {}
        for name, table, expired in _expired_tables(cutoffs):
            if dry_run:
                statement = select(func.count()).select_from(table).where(expired)
                counts[name] = await session.scalar(statement) or 0
            else:
                result = await session.execute(
                    delete(table).where(expired),
                    execution_options={"synchronize_session": False},
                )
                counts[name] = result.rowcount
    return ExpiredRows(**counts, thumbnail_paths=thumbnails, image_paths=images, uploads=uploads)


async def _freed(
    session: AsyncSession, cutoff: dt.datetime, with_images: bool
) -> tuple[list[str], list[str], list[LedgerEntry]]:
    """Read before deleting: the thumbnails and originals of the expired detections and ledger
    rows that no surviving row uses, and the expired ledger rows."""
    expired = (
        await session.execute(
            select(Detection.thumbnail_path, Detection.file_path)
            .where(Detection.detected_at < cutoff)
            .distinct()
        )
    ).all()
    uploads = [
        LedgerEntry(*row)
        for row in (
            await session.execute(
                select(Upload.id, Upload.file_path)
                .where(_upload_expired(cutoff))
                .order_by(Upload.id)
            )
        ).all()
    ]
    thumbnails = {thumbnail for thumbnail, _ in expired if thumbnail}
    thumbnails -= await _used(
        session,
        select(Detection.thumbnail_path).where(
            Detection.detected_at >= cutoff, Detection.thumbnail_path == _any_of(thumbnails)
        ),
    )
    images: set[str] = set()
    if with_images:
        images = {path for _, path in expired} | {upload.file_path for upload in uploads}
        images -= await _used(
            session,
            select(Detection.file_path)
            .where(Detection.detected_at >= cutoff, Detection.file_path == _any_of(images))
            .union(
                select(Upload.file_path).where(
                    Upload.file_path == _any_of(images), ~_upload_expired(cutoff)
                )
            ),
        )
    return sorted(thumbnails), sorted(images), uploads


async def _used(session: AsyncSession, statement: Any) -> set[str]:
    return set((await session.execute(statement)).scalars().all())


async def referenced_thumbnails(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> set[str]:
    """Those ``paths`` some detection row names as its thumbnail."""
    if not paths:
        return set()
    async with sessions() as session:
        return await _used(
            session,
            select(Detection.thumbnail_path).where(Detection.thumbnail_path == _any_of(paths)),
        )


async def forget_uploads(
    sessions: async_sessionmaker[AsyncSession], upload_ids: Sequence[int], cutoff: dt.datetime
) -> int:
    """Delete these ledger rows (their files are gone) if they are still expired: a camera may
    have uploaded to the same path since, which rewrote the row."""
    if not upload_ids:
        return 0
    async with sessions.begin() as session:
        result = await session.execute(
            delete(Upload).where(Upload.id.in_(upload_ids), _upload_expired(cutoff)),
            execution_options={"synchronize_session": False},
        )
    return result.rowcount


async def finished_upload_paths(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """The originals nobody works on any more: what the disk guard may delete."""
    async with sessions() as session:
        statement = select(Upload.file_path).where(Upload.status.in_(FINISHED_UPLOADS))
        return list((await session.execute(statement)).scalars().all())


async def clear_thumbnail_paths(
    sessions: async_sessionmaker[AsyncSession], paths: Sequence[str]
) -> int:
    """Detections stop naming these thumbnails (committed before the files go)."""
    if not paths:
        return 0
    async with sessions.begin() as session:
        result = await session.execute(
            update(Detection)
            .where(Detection.thumbnail_path == _any_of(paths))
            .values(thumbnail_path=None),
            execution_options={"synchronize_session": False},
        )
    return result.rowcount


async def write_log(
    sessions: async_sessionmaker[AsyncSession],
    *,
    level: str,
    message: str,
    extra: dict[str, Any],
    timestamp: dt.datetime,
) -> None:
    async with sessions.begin() as session:
        session.add(
            Log(
                timestamp=timestamp,
                level=level,
                component=COMPONENT,
                message=message,
                extra=extra,
            )
        )


async def last_cleanup_at(sessions: async_sessionmaker[AsyncSession]) -> dt.datetime | None:
    """When the last real cleanup finished, by its log row; None when none is on record."""
    async with sessions() as session:
        return await session.scalar(
            select(func.max(Log.timestamp)).where(
                Log.component == COMPONENT, Log.extra["kind"].as_string() == CLEANUP_KIND
            )
        )
