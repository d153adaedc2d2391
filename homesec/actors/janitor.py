"""Janitor: the retention cleanup, daily at ``CLEANUP_TIME`` and on demand; the disk guard.

The decisions are pure (:mod:`homesec.policy.retention`); the rows are
:mod:`homesec.store.retention`'s, the files :mod:`homesec.files.cleanup`'.

- **Cleanup** (:meth:`Janitor.run_cleanup`): the expired rows go in one transaction; only after
  it committed are the files it freed deleted (thumbnails; originals with ``DELETE_IMAGES``). A
  crash in between leaves orphan files, never rows that point at deleted files; the next run
  sweeps thumbnails that are older than the cutoff and that no row names. Then the expired
  ledger rows whose files are gone (see :mod:`homesec.store.retention` for why only those), then
  Ray's idle session folders, then the stray files of the camera folders (files no ledger row
  explains and the pipeline never takes, older than ``STRAY_FILE_GRACE_HOURS``:
  :func:`homesec.policy.retention.stray_files`; what a leaked camera password once stored),
  then the rejected uploads set aside in ``<FOSCAM_BASE_PATH>/.rejected/`` longer than
  ``REJECTED_UPLOAD_RETENTION_DAYS``.
  The statistics go to the log and, for a real run, a ``logs`` row.
- **Concurrency**: one lock serialises cleanups and the disk guard. A second caller waits for
  the running cleanup and then runs its own, so what it gets is true when it gets it (after a
  real run, a second real run finds nothing left and says so).
- **Schedule**: the next run is the first ``CLEANUP_TIME`` in the house's zone
  (``HOMESEC_TIMEZONE``, else this machine's) after the last real run: the one in memory, else
  the last report row in ``logs``, else the actor's start. So a Janitor restarted after a missed
  03:00 runs at once, and one woken late (a suspended machine) runs once, not once per missed
  day. It wakes at least every ``wake_seconds`` to look at the clock again.
- **Disk guard** (every wake-up; a ``disk_usage`` call unless space is short): when free space
  on the filesystem of the thumbnail directory (and, with ``DELETE_IMAGES``, of the camera
  folders) is under ``MIN_FREE_DISK_PERCENT``, the oldest files there go first, thumbnails and
  finished originals alike, whatever their age, until free space is back above the threshold
  plus a margin. Detections stop naming those thumbnails before the files go.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from homesec.actors.base import ServiceActor
from homesec.contract.reports import CleanupStats
from homesec.files import cleanup as cleanup_files
from homesec.files.camera_folders import REJECTED_FOLDER, discover_camera_folders
from homesec.files.cleanup import FileRemoval
from homesec.policy.retention import (
    RetentionCutoffs,
    next_cleanup_at,
    ray_sessions_to_prune,
    retention_cutoffs,
    stray_files,
    wake_delay,
)
from homesec.policy.uploads import ledger_path
from homesec.settings import Settings, local_zone
from homesec.store import detections, logs, retention, uploads
from homesec.store.log_handler import ALREADY_STORED
from homesec.workflows.camera_offline import check_offline
from homesec.workflows.disk_guard import DiskGuard

DEFAULT_RAY_TEMP_DIR = "/tmp/ray"
WAKE_SECONDS = 300.0


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def schedule_zone(settings: Settings) -> dt.tzinfo:
    """``HOMESEC_TIMEZONE``; else this machine's zone as a full zone (``TZ``, /etc/localtime),
    not a fixed offset, so daylight saving moves the schedule with the wall clock."""
    configured = local_zone(settings)
    if configured is not None:
        return configured
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(name)
    try:
        with open("/etc/localtime", "rb") as stream:
            return zoneinfo.ZoneInfo.from_file(stream, key="localtime")
    except (OSError, ValueError):
        return dt.UTC


def describe_stats(stats: CleanupStats) -> str:
    return (
        f"{stats.events_deleted} events, {stats.detections_deleted} detections, "
        f"{stats.gpu_stats_deleted} gpu_stats, {stats.logs_deleted} logs, "
        f"{stats.camera_problems_deleted} cleared camera problems, "
        f"{stats.thumbnails_deleted} thumbnails, {stats.images_deleted} images, "
        f"{stats.space_reclaimed} bytes"
    )


class Janitor(ServiceActor):
    kind = "janitor"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        ray_temp_dir: str = DEFAULT_RAY_TEMP_DIR,
        *,
        disk_usage: Callable[[str], Any] = shutil.disk_usage,
        clock: Callable[[], dt.datetime] = _utc_now,
        wake_seconds: float = WAKE_SECONDS,
    ) -> None:
        # redis_url: the shared actor signature; the Janitor never touches Redis.
        super().__init__(name, settings, database_url, redis_url)
        self.ray_temp_dir = Path(ray_temp_dir)
        self.clock = clock
        self.wake_seconds = wake_seconds
        self.zone = schedule_zone(settings)
        self._lock = asyncio.Lock()
        self._schedule_from = clock()  # the last real run, or when the Janitor started
        self.last_stats: CleanupStats | None = None
        self.disk_guard = DiskGuard(settings, disk_usage, self.log)

    # --- schedule ---------------------------------------------------------------------------
    @property
    def next_run_at(self) -> dt.datetime:
        return next_cleanup_at(self._schedule_from, self.settings.cleanup_time, self.zone)

    async def main(self) -> None:
        await self.load_schedule()
        while not self.stopping:
            delay = await self.tick()
            await asyncio.sleep(delay)

    async def load_schedule(self) -> None:
        """Take the last real run on record as the schedule's start, if there is one."""
        try:
            last = await retention.last_cleanup_at(self.sessions)
        except Exception as exc:  # PostgreSQL not there yet: schedule from the start time
            self.record_error(exc)
            self.log.warning("cannot read the last cleanup's time: %s", exc)
            return
        if last is not None:
            self._schedule_from = last

    async def tick(self) -> float:
        """One wake-up: the cleanup when it is due, the disk guard always. Returns the seconds
        to sleep; a failed cleanup is tried again after ``wake_seconds``."""
        failed = False
        if self.clock() >= self.next_run_at:
            try:
                await self.run_cleanup()
            except Exception as exc:
                failed = True
                self.record_error(exc)
                self.log.warning("scheduled cleanup failed, trying again soon: %s", exc)
        try:
            await self.relieve_disk_pressure()
        except Exception as exc:
            self.record_error(exc)
            self.log.warning("disk guard failed: %s", exc)
        await self.check_cameras_offline()
        if failed:
            return self.wake_seconds
        return wake_delay(self.clock(), self.next_run_at, self.wake_seconds)

    async def check_cameras_offline(self) -> None:
        """Issue 23: a regular camera silent far longer than usual gets an ``offline`` problem
        (:mod:`homesec.workflows.camera_offline`); never fatal to the wake-up."""
        try:
            checked = await check_offline(self.sessions, self.redis, self.clock())
        except Exception as exc:
            self.record_error(exc)
            self.log.warning("offline check failed: %s", exc)
            return
        self.counters["cameras_went_offline"] += len(checked.went_offline)

    # --- retention cleanup ------------------------------------------------------------------
    async def run_cleanup(self, dry_run: bool = False) -> CleanupStats:
        """Delete what is past retention, or with ``dry_run`` count what would be deleted."""
        async with self._lock:
            return await self._cleanup(dry_run)

    async def _cleanup(self, dry_run: bool) -> CleanupStats:
        now = self.clock()
        cutoffs = retention_cutoffs(
            now, self.settings.retention_days, self.settings.log_retention_days
        )
        rows = await retention.remove_expired_rows(
            self.sessions, cutoffs, with_images=self.settings.delete_images, dry_run=dry_run
        )
        # Files only now that the rows are committed. Files (re)written since `now` were not
        # what this run decided on, and stay.
        started = now.timestamp()
        orphans = await self._orphan_thumbnails(cutoffs, exclude=rows.thumbnail_paths)
        thumbnails = await asyncio.to_thread(
            cleanup_files.remove_files,
            [*rows.thumbnail_paths, *orphans],
            self.settings.thumbnail_dir,
            modified_before=started,
            dry_run=dry_run,
        )
        images = await asyncio.to_thread(
            cleanup_files.remove_files,
            rows.image_paths,
            self.settings.foscam_base_path,
            modified_before=started,
            dry_run=dry_run,
        )
        cleanup_files.warn_about_kept(self.log, (thumbnails, images))
        stats = CleanupStats(
            events_deleted=rows.events,
            detections_deleted=rows.detections,
            gpu_stats_deleted=rows.gpu_stats,
            logs_deleted=rows.logs,
            camera_problems_deleted=rows.camera_problems,
            thumbnails_deleted=len(thumbnails.removed),
            images_deleted=len(images.removed),
            space_reclaimed=thumbnails.bytes_removed + images.bytes_removed,
            retention_days=self.settings.retention_days,
            dry_run=dry_run,
            timestamp=now,
        )
        if dry_run:
            # A preview writes nothing, not even a log row: the dashboard may poll it.
            self.log.info("cleanup dry run would delete %s", describe_stats(stats))
            return stats
        uploads_forgotten = await self._forget_uploads(rows, cutoffs)
        ray_sessions = await self._prune_ray_sessions(now)
        strays = await self._sweep_stray_files(now)
        rejected = await self._sweep_rejected_uploads(now)
        cleanup_files.warn_about_kept(self.log, (strays, rejected))
        await self._report(
            stats, uploads_forgotten, ray_sessions, thumbnails, images, strays, rejected
        )
        self.last_stats = stats
        self._schedule_from = now
        self.counters["cleanups"] += 1
        return stats

    async def _orphan_thumbnails(self, cutoffs: RetentionCutoffs, exclude: list[str]) -> list[str]:
        """Thumbnail files older than the cutoff that no detection names: left by a crash
        between a cleanup's commit and its file deletions, or by a detector's failed job."""
        files = await asyncio.to_thread(cleanup_files.list_files, self.settings.thumbnail_dir)
        known = set(exclude)
        old = [f.path for f in files if f.mtime < cutoffs.data.timestamp() and f.path not in known]
        named = await detections.referenced_thumbnails(self.sessions, old)
        return [path for path in old if path not in named]

    async def _forget_uploads(self, rows: retention.ExpiredRows, cutoffs: RetentionCutoffs) -> int:
        gone = await asyncio.to_thread(
            cleanup_files.absent, [entry.file_path for entry in rows.uploads]
        )
        ids = [entry.id for entry in rows.uploads if entry.file_path in gone]
        return await uploads.forget(self.sessions, ids, cutoffs.data)

    async def _sweep_stray_files(self, now: dt.datetime) -> FileRemoval:
        """Delete what no ledger row explains in the camera folders and the pipeline never
        takes, once older than ``STRAY_FILE_GRACE_HOURS``. Paths are the watcher's (the
        folder's absolute path and the name below it), as the ledger holds them."""
        base = self.settings.foscam_base_path
        folders = await asyncio.to_thread(discover_camera_folders, base)
        files = []
        for folder in folders:
            files += await asyncio.to_thread(cleanup_files.list_camera_files, folder.folder_path)
        grace = self.settings.stray_file_grace_hours * 3600.0
        explained = await uploads.explained_paths(
            self.sessions, [ledger_path(file.path) for file in files]
        )
        chosen = stray_files(files, explained, now.timestamp(), grace)
        return await asyncio.to_thread(
            cleanup_files.remove_files,
            [file.path for file in chosen],
            base,
            modified_before=now.timestamp() - grace,
            dry_run=False,
        )

    async def _sweep_rejected_uploads(self, now: dt.datetime) -> FileRemoval:
        """Delete the rejected uploads set aside (``<FOSCAM_BASE_PATH>/.rejected/``) longer
        than ``REJECTED_UPLOAD_RETENTION_DAYS`` ago (by their mtime, the upload's time)."""
        root = self.settings.foscam_base_path / REJECTED_FOLDER
        files = await asyncio.to_thread(cleanup_files.list_files, root)
        keep_for = self.settings.rejected_upload_retention_days * 86400.0
        return await asyncio.to_thread(
            cleanup_files.remove_files,
            [file.path for file in files],
            root,
            modified_before=now.timestamp() - keep_for,
            dry_run=False,
        )

    async def _prune_ray_sessions(self, now: dt.datetime) -> list[str]:
        sessions = await asyncio.to_thread(cleanup_files.list_ray_sessions, self.ray_temp_dir)
        current = cleanup_files.current_ray_session(self.ray_temp_dir)
        chosen = ray_sessions_to_prune(
            sessions, current, now.timestamp(), self.settings.log_retention_days
        )
        pruned = []
        for name in chosen:
            if await asyncio.to_thread(cleanup_files.remove_ray_session, self.ray_temp_dir, name):
                pruned.append(name)
            else:
                self.log.warning("could not remove Ray session folder %s", name)
        return pruned

    async def _report(
        self,
        stats: CleanupStats,
        uploads_forgotten: int,
        ray_sessions: list[str],
        thumbnails: FileRemoval,
        images: FileRemoval,
        strays: FileRemoval,
        rejected: FileRemoval,
    ) -> None:
        message = f"cleanup deleted {describe_stats(stats)}"
        self.log.info(
            "%s; also %d ledger rows of files that are gone, %d Ray session folders, "
            "%d stray files in camera folders (%d bytes), %d rejected uploads set aside",
            message,
            uploads_forgotten,
            len(ray_sessions),
            len(strays.removed),
            strays.bytes_removed,
            len(rejected.removed),
            extra=ALREADY_STORED,
        )
        await logs.write(
            self.sessions,
            level="INFO",
            component=retention.COMPONENT,
            message=message,
            extra={
                "kind": retention.CLEANUP_KIND,
                **msgspec.to_builtins(stats),
                "uploads_deleted": uploads_forgotten,
                "ray_sessions_pruned": ray_sessions,
                "stray_files_deleted": len(strays.removed),
                "stray_bytes_deleted": strays.bytes_removed,
                "rejected_uploads_deleted": len(rejected.removed),
                "rejected_bytes_deleted": rejected.bytes_removed,
                "paths_refused": len(thumbnails.refused) + len(images.refused),
                "deletions_failed": len(thumbnails.failed) + len(images.failed),
            },
            timestamp=stats.timestamp,
        )

    # --- disk guard -------------------------------------------------------------------------
    async def relieve_disk_pressure(self) -> list[str]:
        """Free space on each watched disk that is short of it
        (:mod:`homesec.workflows.disk_guard`); a summary line for each. Cheap when space is fine:
        one ``disk_usage`` call per disk."""
        short = await asyncio.to_thread(self.disk_guard.short_volumes)
        if not short:
            return []
        async with self._lock:
            reliefs = [
                await self.disk_guard.relieve(self.sessions, volume, self.clock())
                for volume in short
            ]
        self.counters["disk_reliefs"] += len(reliefs)
        return reliefs

    # --- reporting --------------------------------------------------------------------------
    def health_detail(self) -> dict[str, str]:
        detail = {
            "next_cleanup_at": self.next_run_at.astimezone(self.zone).isoformat(),
            "last_cleanup": (
                f"{self.last_stats.timestamp.isoformat()}: {describe_stats(self.last_stats)}"
                if self.last_stats is not None
                else "none since start"
            ),
        }
        if self.disk_guard.last_relief is not None:
            detail["last_disk_relief"] = self.disk_guard.last_relief
        return detail
