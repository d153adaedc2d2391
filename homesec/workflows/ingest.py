"""Ingest of one complete upload for the CameraWatcher: validate, deduplicate, record, enqueue.

Order, for safety: validation (in a worker thread), the ``dedupe:{sha}`` claim, the ledger row
``queued``, and only then the XADD. If the XADD fails the row still says queued, and the watcher
enqueues it again (its retry, or any later scan); the detector is idempotent on the ledger.
A duplicate gets a ``duplicate`` row naming the original; an invalid file a ``rejected`` row
``"{reason}: {message}"`` with one WARNING log record (a row of ``logs``, written with the ledger
row), and is then moved out of the camera's folder to ``<FOSCAM_BASE_PATH>/.rejected/<camera>/``
(kept ``REJECTED_UPLOAD_RETENTION_DAYS``). Bad input never raises here: only Redis or
PostgreSQL being away does.

A valid upload's ledger row and job carry when the picture was taken (``captured_at``): the
EXIF time validation read, when :mod:`homesec.policy.capture_time` believes it, else the
upload's mtime; a disbelieved EXIF time is said at debug level.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import posixpath
from collections.abc import Awaitable, Callable, Mapping, Sequence

import msgspec
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract import keys
from homesec.contract.jobs import DetectionJob
from homesec.files.camera_folders import rejected_folder, set_aside
from homesec.files.uploads import UNDECODABLE_NAME, look_at
from homesec.files.validation import validate_upload
from homesec.policy.capture_time import capture_time
from homesec.policy.retry import utc_iso
from homesec.policy.uploads import FileSeen, is_storable, ledger_path
from homesec.policy.validation import (
    ImageLimits,
    RejectReason,
    ValidationResult,
    printable_path,
)
from homesec.settings import Settings, local_zone
from homesec.store import streams
from homesec.store.dedupe import claim_contents
from homesec.store.log_handler import ALREADY_STORED
from homesec.store.uploads import ValidUpload, record_rejected, record_valid
from homesec.workflows import camera_tamper

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
    # The file as validation found it, stat taken before it was read: what was taken in (for a
    # valid image, whatever its outcome; a rewrite since has another size or mtime).
    seen: FileSeen | None = None


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
        self.zone = local_zone(settings)  # an EXIF time without an offset is the house's
        # Where rejected files go: out of the folder, where no watcher looks.
        self.aside = rejected_folder(settings.foscam_base_path, camera_id)
        self.rejected_retention_days = settings.rejected_upload_retention_days

    async def ingest(
        self, path: str, sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis
    ) -> Ingested:
        """:meth:`ingest_many` for one file; Redis or PostgreSQL being away raises."""
        [ingested] = await self.ingest_many([path], sessions, redis)
        if isinstance(ingested, Exception):
            raise ingested
        return ingested

    async def ingest_many(
        self,
        paths: Sequence[str],
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
    ) -> list[Ingested | Exception]:
        """Ingest complete files together, each path once: the answer for each, in order, or the
        exception (Redis or PostgreSQL away) that stopped it, for the caller to retry.

        The valid ones share their round trips: one pipeline of dedupe claims, one transaction
        for their ledger rows and the camera's ``last_seen_at``, one pipeline of XADDs. Files are
        validated side by side in worker threads (decoding releases the GIL). Rejections are
        rare and each is written on its own, with its log record.
        """
        paths = list(dict.fromkeys(paths))
        answers: dict[str, Ingested | Exception] = {}
        storable = [path for path in paths if is_storable(path)]
        for path in paths:
            if not is_storable(path):
                answers[path] = await _answer(self._reject_undecodable(path, sessions))
        looked = await asyncio.gather(*(asyncio.to_thread(self._validate, p) for p in storable))
        valid: list[ValidUpload] = []
        seen_valid: dict[str, FileSeen] = {}
        samples: dict[str, bytes] = {}  # the tamper check's input, by path
        for path, (seen, result) in zip(storable, looked, strict=True):
            if seen is None or result.reason is RejectReason.MISSING:
                answers[path] = Ingested(Outcome.GONE)
            elif not result.ok:
                reason = result.reason.value if result.reason else "invalid"
                answers[path] = await _answer(
                    self._reject(sessions, path, reason, result.message, result.sha256, seen.size)
                )
            else:
                seen_at = dt.datetime.fromtimestamp(min(seen.mtime, self.clock()), dt.UTC)
                captured = capture_time(result.exif, seen_at, self.zone)
                if captured.why_not_exif:
                    log.debug(
                        "%s: %s: %s; its upload time stands",
                        self.camera_id,
                        printable_path(path),
                        captured.why_not_exif,
                    )
                seen_valid[path] = seen
                if result.sample is not None:
                    samples[path] = result.sample
                valid.append(
                    ValidUpload(
                        file_path=path,
                        sha256=result.sha256 or "",
                        file_size=result.size if result.size is not None else seen.size,
                        seen_at=seen_at,
                        captured_at=captured.at,
                    )
                )
        if valid:
            # Of two files with one content the first to arrive is the original, whatever order
            # they were found in (a scan lists a folder in no particular order).
            valid.sort(key=lambda upload: upload.seen_at)
            try:
                recorded = await self._record_valid(valid, sessions, redis)
            except Exception as exc:  # Redis or PostgreSQL away: every one of them waits
                answers.update((upload.file_path, exc) for upload in valid)
            else:
                answers.update(
                    (path, msgspec.structs.replace(answer, seen=seen_valid[path]))
                    for path, answer in recorded.items()
                )
                await self._check_tamper(valid, recorded, samples, sessions, redis)
        return [answers[path] for path in paths]

    async def _check_tamper(
        self,
        valid: Sequence[ValidUpload],
        recorded: Mapping[str, Ingested],
        samples: Mapping[str, bytes],
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
    ) -> None:
        """The frames newly recorded (queued or duplicate) go to the tamper check (issue 23)."""
        frames = [
            camera_tamper.Frame(
                image_path=upload.file_path,
                seen_at=upload.seen_at,
                sample=samples[upload.file_path],
            )
            for upload in valid
            if upload.file_path in samples
            and recorded[upload.file_path].outcome in (Outcome.ENQUEUED, Outcome.DUPLICATE)
        ]
        await camera_tamper.observe_quietly(sessions, redis, self.camera_id, frames)

    async def _record_valid(
        self,
        uploads: list[ValidUpload],
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
    ) -> dict[str, Ingested]:
        """Dedupe claims, ledger rows, then the XADDs: a row says ``queued`` before its job is
        on the stream, so a failed XADD leaves a row the next scan enqueues again."""
        originals = await claim_contents(
            redis,
            [(upload.sha256, upload.file_path) for upload in uploads],
            self.dedupe_ttl_seconds,
        )
        recorded = await record_valid(sessions, self.camera_id, uploads, originals)
        queued = [upload for upload in uploads if upload.file_path in recorded.queued]
        await self.enqueue_many(
            redis,
            [
                (upload.file_path, recorded.queued[upload.file_path], upload.sha256)
                for upload in queued
            ],
            captured={
                upload.file_path: upload.captured_at
                for upload in queued
                if upload.captured_at is not None
            },
        )
        answers: dict[str, Ingested] = {}
        for upload, original in zip(uploads, originals, strict=True):
            uploaded_at = upload.seen_at.timestamp()
            if upload.file_path in recorded.queued:
                answers[upload.file_path] = Ingested(Outcome.ENQUEUED, uploaded_at)
            elif upload.file_path in recorded.duplicates:
                log.info(
                    "%s: %s duplicates %s",
                    self.camera_id,
                    printable_path(upload.file_path),
                    original,
                )
                answers[upload.file_path] = Ingested(Outcome.DUPLICATE, uploaded_at)
            else:
                answers[upload.file_path] = Ingested(Outcome.UNCHANGED)
        return answers

    async def enqueue_many(
        self,
        redis: aioredis.Redis,
        uploads: Sequence[tuple[str, int, str | None]],
        *,
        captured: Mapping[str, dt.datetime] | None = None,
    ) -> None:
        """XADD a job for each ``(path, upload_id, sha256)``, in one round trip; ``captured``:
        when each picture was taken, by path (a job without one has the detector read the
        ledger row's ``captured_at``)."""
        timestamp = utc_iso(self.clock())
        captured = captured or {}
        jobs = [
            DetectionJob(
                camera_id=self.camera_id,
                file_path=path,
                timestamp=timestamp,
                upload_id=upload_id,
                sha256=sha256,
                captured_at=captured[path].isoformat() if path in captured else None,
            )
            for path, upload_id, sha256 in uploads
        ]
        await streams.enqueue_many(redis, keys.DETECTION_QUEUE, jobs)

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
        """Record the rejection (the ledger row and its one log record, in one transaction),
        then move the file out of the camera's folder to :attr:`aside`. So the folder watch,
        which may report the same file after the FTP server's hand-over, finds it gone and
        records nothing twice."""
        shown = printable_path(path)
        detail = message if shown in message else f"{shown}: {message}"
        kept = self.aside / posixpath.relpath(path, self.folder_path)
        written = await record_rejected(
            sessions,
            camera_id=self.camera_id,
            file_path=ledger_path(path),
            reason=reason,
            message=message,
            log_message=(
                f"upload rejected ({reason}): {detail}; kept in {printable_path(str(kept))} for "
                f"{self.rejected_retention_days:g} days (REJECTED_UPLOAD_RETENTION_DAYS)"
            ),
            sha256=sha256,
            file_size=size,
        )
        if not written:  # the detector owns the path's row
            return Ingested(Outcome.UNCHANGED)
        log.warning(
            "%s: upload rejected (%s): %s", self.camera_id, reason, detail, extra=ALREADY_STORED
        )
        try:
            await asyncio.to_thread(set_aside, path, self.folder_path, self.aside)
        except OSError as exc:  # it stays; the folder watch may record it again
            log.warning(
                "%s: cannot move the rejected upload %s aside: %s", self.camera_id, shown, exc
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


async def _answer(step: Awaitable[Ingested]) -> Ingested | Exception:
    """A step's answer, or the exception that stopped it (Redis or PostgreSQL away)."""
    try:
        return await step
    except Exception as exc:
        return exc
