"""The retention cleanup's one transaction: expired rows of every table out together.

What goes, by the data-model contract: events (``started_at``), detections (``detected_at``) and
gpu_stats (``recorded_at``) older than ``RETENTION_DAYS``, logs (``timestamp``) older than
``LOG_RETENTION_DAYS``; and homesec's camera problems cleared (``cleared_at``) before the data
cutoff, with their camera alerts (an open one stays: it is the camera's status); all in one
transaction (:func:`remove_expired_rows`), which also
reads which files that frees. A dry run reads the same with the same predicates and counts
instead of deleting, so its numbers are what a real run would delete.

An event on hold (``events.held_at``, issue 24) is never expired, and neither are the
detections it lists: each table's ``expired`` predicate leaves them out
(:mod:`homesec.store.event_holds`), so their files and ledger rows count as used by what stays.

Files shared with what stays are kept: a thumbnail path is deterministic per upload path, so a
re-uploaded ``snapshot.jpg`` has new detections with the old ones' thumbnail paths, and an
original image may hold newer detections or a newer ledger row.

**The uploads ledger.** A finished ledger row (``done``, ``duplicate``, ``rejected``, ``failed``)
older than the cutoff, whose file no surviving detection uses, is *expired*, but it is only deleted
once its file is gone (:func:`homesec.store.uploads.forget`, after the files were deleted): the
watcher's scan treats a file without a ledger row as a new upload, so dropping the row of a file
still on disk would ingest it again, with fresh detections. With ``DELETE_IMAGES`` the Janitor
deletes the file first and then the row; without it the row stays as long as the file does (and goes
at a later run once the file is gone). A crash between the two leaves a row without a file, which
the watcher ignores and the next run removes.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import CameraProblem, Detection, Event, GPUStats, Incident, Log
from homesec.policy.retention import RetentionCutoffs
from homesec.store import (
    camera_problems,
    detections,
    events,
    gpu_stats,
    incidents,
    logs,
    uploads,
)
from homesec.store.uploads import LedgerEntry

COMPONENT = "janitor"  # logs.component of the Janitor's rows
CLEANUP_KIND = "cleanup"  # logs.extra["kind"] of a real run's report; the schedule reads it back


class ExpiredRows(msgspec.Struct, frozen=True, kw_only=True):
    """What one retention pass removed (or would remove) from PostgreSQL, and the files that
    frees: the thumbnails (and originals, with ``DELETE_IMAGES``) nothing that stays uses."""

    events: int
    detections: int
    gpu_stats: int
    logs: int
    camera_problems: int
    thumbnail_paths: list[str]
    image_paths: list[str]
    uploads: list[LedgerEntry]  # expired ledger rows, deleted only once their file is gone
    incidents: int = 0  # incidents none of whose events stay


def _expired_tables(cutoffs: RetentionCutoffs) -> list[tuple[str, type, ColumnElement[bool]]]:
    return [
        ("detections", Detection, detections.expired(cutoffs.data)),
        ("events", Event, events.expired(cutoffs.data)),
        # After the events: an incident goes with the last of its events.
        ("incidents", Incident, incidents.expired(cutoffs.data)),
        ("gpu_stats", GPUStats, gpu_stats.expired(cutoffs.data)),
        ("logs", Log, logs.expired(cutoffs.logs)),
        ("camera_problems", CameraProblem, camera_problems.expired(cutoffs.data)),
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
        thumbnails, images, ledger = await _freed(session, cutoffs.data, with_images)
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
    return ExpiredRows(**counts, thumbnail_paths=thumbnails, image_paths=images, uploads=ledger)


async def _freed(
    session: AsyncSession, cutoff: dt.datetime, with_images: bool
) -> tuple[list[str], list[str], list[LedgerEntry]]:
    """Read before deleting: the thumbnails and originals of the expired detections and ledger
    rows that no surviving row uses, and the expired ledger rows."""
    expired = await detections.expired_files_in(session, cutoff)
    ledger = await uploads.expired_in(session, cutoff)
    thumbnails = {thumbnail for thumbnail, _ in expired if thumbnail}
    thumbnails -= await _used(session, detections.thumbnails_kept(thumbnails, cutoff))
    images: set[str] = set()
    if with_images:
        images = {path for _, path in expired} | {entry.file_path for entry in ledger}
        images -= await _used(
            session,
            detections.images_kept(images, cutoff).union(uploads.live_paths(images, cutoff)),
        )
    return sorted(thumbnails), sorted(images), ledger


async def _used(session: AsyncSession, statement) -> set[str]:
    return set((await session.execute(statement)).scalars().all())


async def last_cleanup_at(sessions: async_sessionmaker[AsyncSession]) -> dt.datetime | None:
    """When the last real cleanup finished, by its log row; None when none is on record."""
    return await logs.last_report_at(sessions, COMPONENT, CLEANUP_KIND)
