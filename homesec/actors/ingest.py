"""Ingest of one complete upload for the CameraWatcher: validate, deduplicate, record, enqueue.

Order, for safety: validation (in a worker thread), the ``dedupe:{sha}`` claim, the ledger row
``queued``, and only then the XADD. If the XADD fails the row still says queued, and the watcher
enqueues it again (its retry, or any later scan); the detector is idempotent on the ledger.
A duplicate gets a ``duplicate`` row naming the original; an invalid file a ``rejected`` row
``"{reason}: {message}"`` with a WARNING log record. Bad input never raises here: only Redis or
PostgreSQL being away does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections.abc import Callable

import msgspec
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors import streams, watcher_ledger
from homesec.actors.watcher_files import (
    UNDECODABLE_NAME,
    FileSeen,
    is_storable,
    ledger_path,
    look_at,
)
from homesec.actors.watcher_queue import claim_content
from homesec.ops import keys
from homesec.ops.db_log_handler import ALREADY_STORED
from homesec.pipeline.retry import utc_iso
from homesec.pipeline.structs import DetectionJob
from homesec.pipeline.validation import (
    ImageLimits,
    RejectReason,
    ValidationResult,
    printable_path,
    validate_upload,
)
from homesec.settings import Settings

log = logging.getLogger("homesec.watcher")


class Outcome(enum.Enum):
    ENQUEUED = "enqueued"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    UNCHANGED = "unchanged"  # the ledger already holds this content (or the detector owns it)
    GONE = "gone"  # deleted before it could be read


class Ingested(msgspec.Struct, frozen=True):
    outcome: Outcome
    # When the camera uploaded it (its mtime, never in the future): for last_seen_at. Only for
    # a valid image newly recorded, queued or duplicate.
    uploaded_at: float | None = None


class UploadIngest:
    """One camera's ingest; connections are passed per call (the actor opens them lazily)."""

    def __init__(
        self, camera_id: str, folder_path: str, settings: Settings, clock: Callable[[], float]
    ) -> None:
        self.camera_id = camera_id
        self.folder_path = folder_path
        self.limits = ImageLimits.from_settings(settings)
        self.dedupe_ttl_seconds = settings.dedupe_ttl_seconds
        self.clock = clock

    async def ingest(
        self, path: str, sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis
    ) -> Ingested:
        if not is_storable(path):
            return await self._reject_undecodable(path, sessions)
        seen, result = await asyncio.to_thread(self._validate, path)
        if seen is None or result.reason is RejectReason.MISSING:
            return Ingested(Outcome.GONE)
        if not result.ok:
            reason = result.reason.value if result.reason else "invalid"
            return await self._reject(
                sessions, path, reason, result.message, result.sha256, seen.size
            )
        sha256 = result.sha256 or ""
        uploaded_at = min(seen.mtime, self.clock())
        row = {
            "camera_id": self.camera_id,
            "file_path": path,
            "sha256": sha256,
            "file_size": result.size if result.size is not None else seen.size,
            "seen_at": dt.datetime.fromtimestamp(uploaded_at, dt.UTC),
        }
        original = await claim_content(redis, sha256, path, self.dedupe_ttl_seconds)
        if original is not None:
            if not await watcher_ledger.record_duplicate(sessions, **row, original=original):
                return Ingested(Outcome.UNCHANGED)
            log.info("%s: %s duplicates %s", self.camera_id, printable_path(path), original)
            return Ingested(Outcome.DUPLICATE, uploaded_at)
        upload_id = await watcher_ledger.record_queued(sessions, **row)
        if upload_id is None:
            return Ingested(Outcome.UNCHANGED)
        await self.enqueue(redis, path, upload_id, sha256)
        return Ingested(Outcome.ENQUEUED, uploaded_at)

    async def enqueue(
        self, redis: aioredis.Redis, path: str, upload_id: int, sha256: str | None
    ) -> None:
        job = DetectionJob(
            camera_id=self.camera_id,
            file_path=path,
            timestamp=utc_iso(self.clock()),
            upload_id=upload_id,
            sha256=sha256,
        )
        await streams.enqueue(redis, keys.DETECTION_QUEUE, job)

    def _validate(self, path: str) -> tuple[FileSeen | None, ValidationResult]:
        # The stat gives the size a rejected row records, which a later scan compares with.
        return look_at(path, read_tail=False), validate_upload(path, self.folder_path, self.limits)

    async def _reject(
        self,
        sessions: async_sessionmaker[AsyncSession],
        path: str,
        reason: str,
        message: str,
        sha256: str | None,
        size: int,
    ) -> Ingested:
        shown = printable_path(path)
        detail = message if shown in message else f"{shown}: {message}"
        written = await watcher_ledger.record_rejected(
            sessions,
            camera_id=self.camera_id,
            file_path=ledger_path(path),
            reason=reason,
            message=message,
            log_message=f"upload rejected ({reason}): {detail}",
            sha256=sha256,
            file_size=size,
        )
        if not written:  # the detector owns the path's row
            return Ingested(Outcome.UNCHANGED)
        log.warning(
            "%s: upload rejected (%s): %s", self.camera_id, reason, detail, extra=ALREADY_STORED
        )
        return Ingested(Outcome.REJECTED)

    async def _reject_undecodable(
        self, path: str, sessions: async_sessionmaker[AsyncSession]
    ) -> Ingested:
        seen = await asyncio.to_thread(look_at, path, read_tail=False)
        if seen is None:
            return Ingested(Outcome.GONE)
        message = (
            f"{ledger_path(path)}: the file name is not valid UTF-8, which the ledger and the "
            "queues cannot hold; rename the file"
        )
        return await self._reject(sessions, path, UNDECODABLE_NAME, message, None, seen.size)
