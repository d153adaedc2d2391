"""The Janitor's disk guard: when a disk runs short, the oldest files go, whatever their age.

Watched: the filesystem holding the thumbnail directory and, with ``DELETE_IMAGES``, the one
holding the camera folders (one check when both are on the same disk). When free space on one is
under ``MIN_FREE_DISK_PERCENT``, its candidates are ordered oldest first (by mtime), thumbnails
and finished originals together, and deleted until free space is back above the threshold plus
a margin (:func:`~homesec.policy.retention.files_to_free`). Originals are those of finished
ledger rows only: a file still waiting for the detector is never a candidate, and without
``DELETE_IMAGES`` no original is. Nor is a file of an event on hold (issue 24).

The database stays consistent: the detections naming a thumbnail stop naming it (committed)
before the file goes, so a crash in between leaves an orphan file, never a dangling path. An
original's detections and ledger row stay; the ledger row keeps the watcher from taking a file
back that is now gone, and goes with a later retention cleanup.

Every action is a WARNING in the log and in ``logs``; a disk that stays short with nothing left
to delete is written to ``logs`` once per episode, not at every wake-up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.files import cleanup as cleanup_files
from homesec.files.cleanup import FileRemoval
from homesec.policy.retention import DiskUsage, files_to_free, free_percent, under_pressure
from homesec.settings import Settings
from homesec.store import detections, logs, retention, uploads
from homesec.store.log_handler import ALREADY_STORED

THUMBNAILS = "thumbnails"
IMAGES = "images"


class ShortVolume(msgspec.Struct, frozen=True):
    """One filesystem under the threshold: the guarded roots it holds, by kind, and its usage."""

    roots: dict[str, Path]
    usage: DiskUsage

    @property
    def name(self) -> str:
        return str(next(iter(self.roots.values())))


class DiskGuard:
    def __init__(
        self, settings: Settings, disk_usage: Callable[[str], Any], log: logging.Logger
    ) -> None:
        self.settings = settings
        self.disk_usage = disk_usage
        self.log = log
        self.last_relief: str | None = None
        self._reported_empty: set[str] = set()  # short volumes already reported as hopeless

    def short_volumes(self) -> list[ShortVolume]:
        """The watched filesystems under the threshold; a ``disk_usage`` call each (blocking)."""
        if self.settings.min_free_disk_percent <= 0:
            return []
        roots = {THUMBNAILS: self.settings.thumbnail_dir}
        if self.settings.delete_images:
            roots[IMAGES] = self.settings.foscam_base_path
        by_device: dict[int, dict[str, Path]] = {}
        for kind, root in roots.items():
            device = cleanup_files.filesystem_of(root)
            if device is not None:
                by_device.setdefault(device, {})[kind] = root
        short = []
        for volume_roots in by_device.values():
            total, used, free = self.disk_usage(str(next(iter(volume_roots.values()))))
            volume = ShortVolume(volume_roots, DiskUsage(total=total, used=used, free=free))
            if under_pressure(volume.usage, self.settings.min_free_disk_percent):
                short.append(volume)
            else:
                self._reported_empty.discard(volume.name)
        return short

    async def relieve(
        self, sessions: async_sessionmaker[AsyncSession], volume: ShortVolume, now: dt.datetime
    ) -> str:
        """Delete the oldest files of ``volume`` until it has room again; a summary line."""
        kinds: dict[str, str] = {}
        candidates = []
        if THUMBNAILS in volume.roots:
            found = await asyncio.to_thread(cleanup_files.list_files, volume.roots[THUMBNAILS])
            kinds.update(dict.fromkeys((f.path for f in found), THUMBNAILS))
            candidates += found
        if IMAGES in volume.roots:
            finished = await uploads.finished_paths(sessions)
            found = await asyncio.to_thread(cleanup_files.look_at_files, finished)
            kinds.update(dict.fromkeys((f.path for f in found), IMAGES))
            candidates += found
        # An event the owner keeps (issue 24) keeps its files under pressure too.
        held = await detections.held_files(sessions)
        candidates = [f for f in candidates if f.path not in held]
        chosen = files_to_free(candidates, volume.usage, self.settings.min_free_disk_percent)
        by_kind = {kind: [f.path for f in chosen if kinds[f.path] == kind] for kind in volume.roots}
        await detections.clear_thumbnail_paths(sessions, by_kind.get(THUMBNAILS, []))
        removals = {
            kind: await asyncio.to_thread(
                cleanup_files.remove_files,
                paths,
                volume.roots[kind],
                modified_before=now.timestamp(),
                dry_run=False,
            )
            for kind, paths in by_kind.items()
        }
        cleanup_files.warn_about_kept(self.log, removals.values())
        return await self._report(sessions, volume, removals, now)

    async def _report(
        self,
        sessions: async_sessionmaker[AsyncSession],
        volume: ShortVolume,
        removals: dict[str, FileRemoval],
        now: dt.datetime,
    ) -> str:
        deleted = {kind: len(removal.removed) for kind, removal in removals.items()}
        freed = sum(removal.bytes_removed for removal in removals.values())
        free_after = 100.0 * (volume.usage.free + freed) / volume.usage.total
        message = (
            f"free disk space on {volume.name} is {free_percent(volume.usage):.1f}%, under "
            f"MIN_FREE_DISK_PERCENT={self.settings.min_free_disk_percent:g}: deleted the oldest "
            f"files regardless of age: {deleted.get(THUMBNAILS, 0)} thumbnails and "
            f"{deleted.get(IMAGES, 0)} images, {freed} bytes; about {free_after:.1f}% free now"
        )
        if not freed:
            message += " (nothing left that may be deleted)"
        self.log.warning("%s", message, extra=ALREADY_STORED)
        self.last_relief = f"{now.isoformat()}: {message}"
        if freed or volume.name not in self._reported_empty:
            self._reported_empty.add(volume.name)
            await logs.write(
                sessions,
                level="WARNING",
                component=retention.COMPONENT,
                message=message,
                extra={
                    "kind": "disk_pressure",
                    "volume": volume.name,
                    "free_percent_before": round(free_percent(volume.usage), 2),
                    "thumbnails_deleted": deleted.get(THUMBNAILS, 0),
                    "images_deleted": deleted.get(IMAGES, 0),
                    "space_reclaimed": freed,
                },
                timestamp=now,
            )
        return message
