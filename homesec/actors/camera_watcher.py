"""CameraWatcher: one per camera folder; turns each finished upload into a detection job.

Data flow step 2 of docs/architecture.md. The decisions are pure and live elsewhere: completeness in
:mod:`homesec.policy.uploads`, validity in :mod:`homesec.policy.validation`, the camera's
status in :mod:`homesec.policy.camera_health`, what a scan does in
:func:`homesec.policy.uploads.plan_scan`. This shell watches, stats, reads and writes.

- **Events**: watchdog (inotify, or polling with ``FILE_WATCHER_POLLING`` for NFS/SMB; inotify
  out of watches falls back to polling) watches the folder and its subfolders. Its callbacks
  run in the observer's thread and only hand :class:`FileChange` values to this loop.
- **Completeness**: every tick (``tick_seconds``) the loop stats the files it is waiting for,
  reads their 64-byte tails and feeds the :class:`UploadTracker`; a file counts once closed
  after its last write (close-write, or a rename into place) or unchanged for
  ``UPLOAD_SETTLE_SECONDS``; one whose tail lacks its end marker waits longer. A file is never
  read for validation before that.
- **Ingest** of a complete file (:mod:`homesec.workflows.ingest`): validation in a worker thread,
  SHA-256 dedupe (``dedupe:{sha}``, SET NX EX; held by this very path is no duplicate), the ledger
  row ``queued`` *before* the XADD. Duplicates and invalid files are recorded with their reason and
  never stop the watcher; a file whose ingest failed (Redis or PostgreSQL away) waits and is
  retried, going by the ledger.
- **Names**: see :mod:`homesec.files.uploads`: hidden names and FTP temporary names are ignored; a
  name that is not UTF-8 is rejected (``undecodable_name``).
- **Rejected files** are recorded (one ledger row, one log record) and moved out of the folder
  to ``<FOSCAM_BASE_PATH>/.rejected/<camera>/`` (:mod:`homesec.workflows.ingest`); so the
  folder watch reporting a file the FTP server handed over already finds it gone. A file
  recorded as rejected that is still in the folder (from before, or not movable) is looked at
  again only when it changes: a new write seen live, or at a scan a size that differs from the
  rejected one. Never blindly.
- **Scan** (at start, whenever the folder (re)appears, and :meth:`scan_now`): every file
  below the folder, recursively, against one bulk ledger query: no row (or rejected and
  changed) goes through the tracker like a new upload; every ``queued``/``processing`` row of
  the camera is enqueued again, since Redis may have lost it (the detector is idempotent).
  ``done``/``duplicate``/``failed`` and unchanged ``rejected`` files are skipped.
- **Back-pressure**: while the detection queue holds ``QUEUE_MAX_DEPTH`` unacknowledged
  entries, files wait on disk with no row (counted as deferred) and are retried every
  ``waiting_retry_seconds``; a restart finds them by the scan.
- **Camera status** (every ``status_check_seconds``, and on each upload): ``error`` while the
  folder is missing or unreadable, ``online`` within ``CAMERA_OFFLINE_SECONDS`` of the last
  upload (its file's mtime: files found late do not make a camera look alive), else
  ``offline``. Each change goes to ``cameras.status``, a log record and ``security_events``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable

from watchdog.observers.api import BaseObserver

from homesec.actors import metrics
from homesec.actors.base import ServiceActor
from homesec.contract import keys
from homesec.contract.messages import CameraStatusData, CameraStatusMessage
from homesec.contract.reports import Problem
from homesec.files.camera_folders import probe_folder
from homesec.files.uploads import (
    ChangeKind,
    FileChange,
    FolderEvents,
    list_files,
    look_at,
    look_at_all,
    start_observer,
)
from homesec.policy.camera_health import FolderState, camera_status
from homesec.policy.cameras import CameraFolder
from homesec.policy.retry import backoff_delay, utc_iso
from homesec.policy.uploads import (
    FileSeen,
    IngestedFiles,
    LedgerRow,
    UploadTracker,
    ledger_path,
    plan_scan,
)
from homesec.policy.validation import printable_path
from homesec.settings import Settings
from homesec.store import cameras, event_channel, uploads
from homesec.store.log_handler import ALREADY_STORED
from homesec.store.streams import queue_depth
from homesec.workflows.ingest import Ingested, Outcome, UploadIngest

DEFAULT_TICK_SECONDS = 0.25
# Files ingested together: validated side by side, recorded in one transaction, queued in one
# round trip.
INGEST_BATCH = 32
DEFAULT_STATUS_CHECK_SECONDS = 5.0
DEFAULT_WAITING_RETRY_SECONDS = 1.0
COUNTERS = ("accepted", "duplicates", "rejected", "deferred", "enqueued")
OUTCOME_COUNTERS = {
    Outcome.ENQUEUED: "accepted",
    Outcome.DUPLICATE: "duplicates",
    Outcome.REJECTED: "rejected",
}


class CameraWatcher(ServiceActor):
    kind = "watcher"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        camera_id: str,
        folder_path: str,
        *,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
        status_check_seconds: float = DEFAULT_STATUS_CHECK_SECONDS,
        waiting_retry_seconds: float = DEFAULT_WAITING_RETRY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.camera_id = camera_id
        self.folder_path = os.path.abspath(folder_path)
        self.tick_seconds = tick_seconds
        self.status_check_seconds = status_check_seconds
        self.waiting_retry_seconds = waiting_retry_seconds
        self.clock = clock
        self.tracker = UploadTracker.from_settings(settings)
        self.ingested = IngestedFiles()
        self.ingest = UploadIngest(camera_id, self.folder_path, settings, clock)
        self.counters.update(dict.fromkeys(COUNTERS, 0))
        self._changes: asyncio.Queue[FileChange] = asyncio.Queue()
        # Scans, ingest and status changes read and write the same state; under Ray,
        # scan_now() runs beside the main loop.
        self._work_lock = asyncio.Lock()
        # Complete files not yet recorded, oldest first: deferred by back-pressure, or their
        # ingest failed. A dict for its order.
        self._waiting: dict[str, None] = {}
        self._observer: BaseObserver | None = None
        self._observer_mode = "none"
        self._folder_identity: tuple[int, int] | None = None
        self._scan_needed = False
        self._status: str | None = None
        self._last_seen: float | None = None
        self._pending_count = 0  # a plain int health() may read from its own thread
        self._folder_state: FolderState | None = None  # as the last status check found it

    # --- main loop -------------------------------------------------------------------------
    async def main(self) -> None:
        try:
            await self._prepare()
            next_status_check = next_scan = next_retry = 0.0
            while not self.stopping:
                now = time.monotonic()
                if now >= next_status_check:
                    next_status_check = now + self.status_check_seconds
                    await self._attempt(self._check_status)
                if self._scan_needed and now >= next_scan:
                    next_scan = now + self.waiting_retry_seconds  # paces a failing scan
                    await self._attempt(self.scan_now)
                await self._attempt(self._settle)
                if self._waiting and now >= next_retry:
                    next_retry = now + self.waiting_retry_seconds
                    await self._attempt(self._retry_waiting)
                await asyncio.sleep(self.tick_seconds)
        finally:
            await self._stop_observer()

    async def _prepare(self) -> None:
        """Register the camera's row if missing and load its status; retried until it works."""
        folder = CameraFolder(self.camera_id, os.path.basename(self.folder_path), self.folder_path)
        attempt = 0
        while True:
            try:
                await cameras.register_cameras(self.sessions, [folder])
                state = await cameras.camera_state(self.sessions, self.camera_id)
            except Exception as exc:  # PostgreSQL not there yet: wait, as long as it takes
                attempt += 1
                self.record_error(exc)
                self.log.warning("%s: cannot start yet: %s", self.name, exc)
                await asyncio.sleep(self.tick_seconds + backoff_delay(attempt, 1.0, 30.0))
                continue
            self._status, self._last_seen = state.status, state.last_seen_at
            return

    async def _attempt(self, step: Callable[..., Awaitable[object]], *args: object) -> None:
        """One step of the loop; a failure (Redis or PostgreSQL away) is recorded, not fatal."""
        try:
            await step(*args)
        except Exception as exc:
            self.record_error(exc)
            self.log.warning("%s: %s failed: %s", self.name, step.__name__, exc)

    # --- the folder and its observer -------------------------------------------------------
    async def _check_status(self) -> None:
        folder, identity = await asyncio.to_thread(self._probe)
        self._folder_state = folder
        async with self._work_lock:
            await self._sync_observer(folder, identity)
            await self._apply_status(folder)

    def _probe(self) -> tuple[FolderState, tuple[int, int] | None]:
        folder = probe_folder(self.folder_path)
        if folder is not FolderState.OK:
            return folder, None
        try:
            info = os.stat(self.folder_path)
        except OSError:
            return FolderState.MISSING, None
        return folder, (info.st_dev, info.st_ino)

    async def _sync_observer(self, folder: FolderState, identity: tuple[int, int] | None) -> None:
        """Watch the folder while it exists. A folder removed and created again is a new inode
        an old inotify watch never sees: watch it afresh and scan what it holds."""
        if folder is not FolderState.OK:
            if self._observer is not None:
                self.log.warning("%s: %s is %s", self.name, self.folder_path, folder.value)
                await self._stop_observer()
            return
        observer = self._observer
        if observer is None or not observer.is_alive() or identity != self._folder_identity:
            await self._stop_observer()
            await self._start_observer()
            self._folder_identity = identity
            self._scan_needed = True

    async def _start_observer(self) -> None:
        handler = FolderEvents(
            self.folder_path, asyncio.get_running_loop(), self._changes.put_nowait, self.clock
        )
        polling = self.settings.file_watcher_polling
        self._observer, polling = await asyncio.to_thread(
            start_observer, self.folder_path, handler, polling=polling
        )
        self._observer_mode = "polling" if polling else "inotify"

    async def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        self._observer_mode = "none"
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join, 5.0)

    # --- completeness ----------------------------------------------------------------------
    async def _settle(self) -> None:
        """Feed the tracker what the events and a fresh stat say; ingest what is complete."""
        changes: list[FileChange] = []
        while not self._changes.empty():
            changes.append(self._changes.get_nowait())
        async with self._work_lock:
            touched: set[str] = set()
            closed: list[FileChange] = []
            for change in changes:
                if change.kind is ChangeKind.GONE:
                    self.tracker.forget(change.path)
                    self.ingested.forget(change.path)
                    self._waiting.pop(change.path, None)
                elif change.kind is ChangeKind.FOLDER:
                    found = await asyncio.to_thread(list_files, change.path, self.folder_path)
                    touched.update(seen.path for seen in found)
                elif change.kind is ChangeKind.CLOSED:
                    closed.append(change)
                else:
                    touched.add(change.path)
            wanted = touched | set(self.tracker.pending()) | {change.path for change in closed}
            seen = await asyncio.to_thread(look_at_all, wanted) if wanted else {}
            # In order of time: each close with the stat taken at its event, then the stat
            # just taken, which undoes the close if the file was written again since.
            for change in closed:
                if change.seen is not None and not self._taken_already(change.seen):
                    size, mtime = change.seen.size, change.seen.mtime
                    self.tracker.observe(change.path, size, mtime, change.at)
                    self.tracker.closed(change.path, change.at)
            now = self.clock()
            for path, look in seen.items():
                if look is None:
                    self.tracker.forget(path)
                elif not self._taken_already(look):
                    self.tracker.observe(
                        path, look.size, look.mtime, now, tail_complete=look.tail_complete
                    )
            ready = self.tracker.ready()
            self._pending_count = len(self.tracker.pending())
            if ready:
                await self._ingest_all(ready)

    # --- ingest ----------------------------------------------------------------------------
    async def _queue_room(self) -> int:
        depth = await queue_depth(self.redis, keys.DETECTION_QUEUE, keys.DETECTOR_GROUP)
        metrics.queue_depth(keys.DETECTION_QUEUE, depth)
        return max(0, self.settings.queue_max_depth - depth)

    def _defer(self, path: str) -> None:
        if path not in self._waiting:
            self.counters["deferred"] += 1
            self._waiting[path] = None

    async def _ingest_all(self, paths: list[str]) -> None:
        """Ingest complete files while the queue has room; the rest wait. A failure keeps the
        file waiting (the tracker reported it already and would not again). Up to
        ``INGEST_BATCH`` files at a time share their database and Redis round trips."""
        try:
            room = await self._queue_room()
        except Exception:
            self._waiting.update(dict.fromkeys(paths))
            raise
        for start in range(0, len(paths), INGEST_BATCH):
            admitted: list[str] = []
            for path in paths[start : start + INGEST_BATCH]:
                if room <= 0:
                    self._defer(path)
                else:
                    admitted.append(path)
                    room -= 1  # held for it; given back below unless it was enqueued
            if not admitted:
                continue
            answers = await self.ingest.ingest_many(admitted, self.sessions, self.redis)
            latest: float | None = None
            for path, answer in zip(admitted, answers, strict=True):
                ingested = self._took(path, answer)
                if ingested is None or ingested.outcome is not Outcome.ENQUEUED:
                    room += 1
                if ingested is not None and ingested.uploaded_at is not None:
                    latest = max(latest or ingested.uploaded_at, ingested.uploaded_at)
            self._remember_taken(answers)
            if latest is not None:
                # The files are recorded whatever becomes of the status update.
                await self._attempt(self._saw_upload, latest)

    def _taken_already(self, seen: FileSeen) -> bool:
        """This content of the file was taken in already (the other of the FTP server's
        hand-over and the folder's close-write): nothing to feed the tracker."""
        return self.ingested.already_taken(seen.path, seen.size, seen.mtime)

    def _remember_taken(self, answers: list[Ingested | Exception]) -> None:
        """The content of each valid image ingest took in, as validation saw it before reading
        it (a rewrite during the ingest has another size or mtime and is not taken for it)."""
        for answer in answers:
            if isinstance(answer, Ingested) and answer.seen is not None:
                seen = answer.seen
                self.ingested.took(seen.path, seen.size, seen.mtime)

    def _took(self, path: str, ingested: Ingested | Exception) -> Ingested | None:
        """Count what ingest did with ``path``; None when it failed and the file waits."""
        if isinstance(ingested, Exception):
            self.record_error(ingested)
            self.log.warning("%s: %s: %s", self.name, printable_path(path), ingested)
            self._waiting[path] = None
            return None
        # Recorded: the tracker need not remember it (a later write brings it back).
        self.tracker.forget(path)
        self._waiting.pop(path, None)
        if ingested.outcome in OUTCOME_COUNTERS:
            self.counters[OUTCOME_COUNTERS[ingested.outcome]] += 1
        if ingested.outcome is Outcome.ENQUEUED:
            self.counters["enqueued"] += 1
        return ingested

    # --- scans and waiting files -----------------------------------------------------------
    async def scan_now(self) -> int:
        """Scan the folder against the ledger (see the module's docstring). Returns how many
        files were enqueued by it: ledger rows put on the stream again. New files it found
        settle in the tracker and are enqueued by the following ticks."""
        async with self._work_lock:
            if await asyncio.to_thread(probe_folder, self.folder_path) is not FolderState.OK:
                return 0
            files = await asyncio.to_thread(list_files, self.folder_path)
            paths = [ledger_path(seen.path) for seen in files]
            rows = await uploads.rows_for_scan(self.sessions, self.camera_id, paths)
            plan = plan_scan(files, rows)
            now = self.clock()
            for seen in plan.fresh:
                if seen.path not in self._waiting:
                    self.tracker.observe(seen.path, seen.size, seen.mtime, now)
            self._pending_count = len(self.tracker.pending())
            enqueued = await self._requeue(plan.requeue)
            self._scan_needed = False
        self.log.info(
            "%s: scanned %d files: %d new or changed, %d enqueued again",
            self.name,
            len(files),
            len(plan.fresh),
            enqueued,
        )
        return enqueued

    async def _requeue(self, rows: list[LedgerRow]) -> int:
        """Put ``queued``/``processing`` rows on the stream again, while it has room."""
        if not rows:
            return 0
        room = await self._queue_room()
        admitted, deferred = rows[:room], rows[room:]
        for row in deferred:
            self._defer(row.file_path)
        await self.ingest.enqueue_many(
            self.redis, [(row.file_path, row.id, row.sha256) for row in admitted]
        )
        for row in admitted:
            self._waiting.pop(row.file_path, None)
        self.counters["enqueued"] += len(admitted)
        return len(admitted)

    async def _retry_waiting(self) -> None:
        """Once the queue has room, ingest the waiting files, going by the ledger: a row left
        queued (its XADD failed) is enqueued, a file with no row is ingested."""
        async with self._work_lock:
            room = await self._queue_room() if self._waiting else 0
            if room <= 0:
                return
            # The oldest that could fit: a long backlog is not re-read every round.
            paths = list(itertools.islice(self._waiting, room))
            rows = await uploads.rows_for_paths(
                self.sessions, [ledger_path(path) for path in paths]
            )
            looks = await asyncio.to_thread(look_at_all, paths)
            plan = plan_scan([look for look in looks.values() if look is not None], rows)
            keep = {row.file_path for row in plan.requeue} | {seen.path for seen in plan.fresh}
            for path in paths:
                if path not in keep:  # gone, or finished meanwhile
                    del self._waiting[path]
            await self._requeue(plan.requeue)
            await self._ingest_all([seen.path for seen in plan.fresh])

    async def upload_finished(self, path: str) -> bool:
        """The FTP server's word that ``path`` was closed after its last write: ingest it now,
        without the settle wait. The folder's own events may report it too; the ledger makes
        the second ingest a no-op. False for a path outside this camera's folder."""
        if not path.startswith(self.folder_path + os.sep):  # ingest validates the rest
            return False
        async with self._work_lock:
            look = await asyncio.to_thread(look_at, path)
            if look is not None and self._taken_already(look):
                return True  # the folder's close-write got there first
            self.tracker.closed(path, self.clock())
            ready = self.tracker.ready()
            self._pending_count = len(self.tracker.pending())
            if ready:
                await self._ingest_all(ready)
        return True

    # --- camera status ---------------------------------------------------------------------
    async def _saw_upload(self, seen_at: float) -> None:
        self._last_seen = max(self._last_seen or seen_at, seen_at)
        await self._apply_status(FolderState.OK)

    async def _apply_status(self, folder: FolderState) -> None:
        """Recompute the camera's status; on a change write it, log it and publish it."""
        now = self.clock()
        update = camera_status(
            self._status,
            now=now,
            last_seen_at=self._last_seen,
            folder=folder,
            offline_after_seconds=self.settings.camera_offline_seconds,
        )
        if not update.changed:
            return
        previous, status = self._status, update.status.value
        await cameras.record_camera_status(
            self.sessions,
            camera_id=self.camera_id,
            status=status,
            previous=previous,
            reason=update.reason,
        )
        self._status = status
        self.log.info(
            "%s: camera is %s (was %s): %s",
            self.name,
            status,
            previous,
            update.reason,
            extra=ALREADY_STORED,
        )
        message = CameraStatusMessage(
            data=CameraStatusData(
                camera_id=self.camera_id,
                status=status,
                previous_status=previous,
                reason=update.reason,
                changed_at=utc_iso(now),
            )
        )
        await event_channel.publish(self.redis, message)

    # --- reporting -------------------------------------------------------------------------
    def health_problems(self) -> list[Problem]:
        problems = super().health_problems()
        folder = self._folder_state
        if folder is not None and folder is not FolderState.OK:
            problems.append(
                Problem(
                    component=self.name,
                    summary=f"camera folder {printable_path(self.folder_path)} is {folder.value}",
                    remedy=(
                        "create the folder (or mount its disk) and let homesec read it; uploads "
                        "are taken again as soon as it can be read"
                    ),
                )
            )
        return problems

    def health_detail(self) -> dict[str, str]:
        observer = self._observer
        return {
            "camera_id": self.camera_id,
            "folder": printable_path(self.folder_path),
            "camera_status": self._status or "unknown",
            "pending_uploads": str(self._pending_count),
            "deferred": str(len(self._waiting)),
            "observer": self._observer_mode,
            "observer_alive": str(observer is not None and observer.is_alive()).lower(),
        }
