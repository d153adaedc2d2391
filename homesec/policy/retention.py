"""The Janitor's decisions: what is old, when to run next, what to delete for disk space.

Pure functions of data and ``now``; :mod:`homesec.actors.janitor` does the I/O.

- :func:`retention_cutoffs`: rows older than these instants go (``RETENTION_DAYS``,
  ``LOG_RETENTION_DAYS``).
- :func:`next_cleanup_at`: the first moment after a given one when the local wall clock shows
  ``CLEANUP_TIME``. Computed in the house's zone, so daylight saving moves it with the clock: on
  a day the spring change skips that time (02:30 in Europe/Berlin) it runs once, an hour later by
  the wall clock (03:30); on a day the autumn change repeats it, it runs once, at the first of
  the two.
- :func:`files_to_free`: under disk pressure, the oldest files first until free space is back
  above the threshold plus a margin, whatever their age.
- :func:`ray_sessions_to_prune`: Ray session folders idle for longer than the log retention,
  never the current one.
- :func:`stray_files`: files in a camera's folder that no ``uploads`` row explains and that the
  pipeline never takes (hidden, a temporary name never renamed into place, not an image),
  older than ``STRAY_FILE_GRACE_HOURS``. An image's name without a row is left alone whatever
  its age: the watcher records every one it sees (queued or rejected), so such a file is one it
  has not got to yet (homesec was down when it arrived), never junk.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import msgspec

from homesec.policy.uploads import ledger_path, upload_name_refusal

SECONDS_PER_DAY = 86_400
# Freed beyond MIN_FREE_DISK_PERCENT, so the next wake-up does not find the disk just under the
# threshold again and delete a few more files every few minutes.
FREE_SPACE_MARGIN_PERCENT = 1.0


class RetentionCutoffs(msgspec.Struct, frozen=True):
    data: dt.datetime  # events, detections, gpu_stats, the uploads ledger, thumbnails, images
    logs: dt.datetime


def retention_cutoffs(
    now: dt.datetime, retention_days: int, log_retention_days: int
) -> RetentionCutoffs:
    return RetentionCutoffs(
        data=now - dt.timedelta(days=retention_days),
        logs=now - dt.timedelta(days=log_retention_days),
    )


def next_cleanup_at(after: dt.datetime, cleanup_time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """The first instant strictly after ``after`` (aware) at which it is ``cleanup_time`` in
    ``zone``, in UTC.

    ``fold=0`` picks the first of a repeated wall-clock time; a skipped one resolves, by PEP 495,
    with the offset from before the change, which lands after the gap.
    """
    local_day = after.astimezone(zone).date()
    today = _instant(local_day, cleanup_time, zone)
    if today > after:
        return today
    # Always later than ``after``, which falls on today's local date.
    return _instant(local_day + dt.timedelta(days=1), cleanup_time, zone)


def _instant(day: dt.date, wall_time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, wall_time).replace(tzinfo=zone).astimezone(dt.UTC)


def wake_delay(now: dt.datetime, next_run: dt.datetime, max_seconds: float) -> float:
    """Seconds to sleep before looking again: until the next run, but never longer than
    ``max_seconds``, so a clock that jumps (NTP, a suspended machine) is noticed soon."""
    return min(max_seconds, max(0.0, (next_run - now).total_seconds()))


class DiskUsage(msgspec.Struct, frozen=True):
    """What ``shutil.disk_usage`` says of one filesystem, in bytes."""

    total: int
    used: int
    free: int


def free_percent(usage: DiskUsage) -> float:
    return 100.0 * usage.free / usage.total if usage.total > 0 else 100.0


def under_pressure(usage: DiskUsage, min_free_percent: float) -> bool:
    return free_percent(usage) < min_free_percent


class FileFacts(msgspec.Struct, frozen=True):
    path: str
    size: int  # bytes
    mtime: float  # epoch seconds


def files_to_free(
    files: Iterable[FileFacts],
    usage: DiskUsage,
    min_free_percent: float,
    margin_percent: float = FREE_SPACE_MARGIN_PERCENT,
) -> list[FileFacts]:
    """The oldest ``files`` (by mtime, then path) whose sizes bring free space to
    ``min_free_percent + margin_percent``; none when the disk is not under pressure. All of
    them when even that is not enough: the caller says so."""
    if not under_pressure(usage, min_free_percent):
        return []
    target_percent = min(100.0, min_free_percent + margin_percent)
    needed = math.ceil(usage.total * target_percent / 100.0) - usage.free
    chosen: list[FileFacts] = []
    freed = 0
    for facts in sorted(files, key=lambda f: (f.mtime, f.path)):
        if freed >= needed:
            break
        chosen.append(facts)
        freed += facts.size
    return chosen


class RaySession(msgspec.Struct, frozen=True):
    name: str  # session_2025-12-27_03-00-00_123456_789
    last_active: float  # epoch seconds: the newest mtime seen in it


def ray_sessions_to_prune(
    sessions: Iterable[RaySession], current: str | None, now: float, max_age_days: int
) -> list[str]:
    """Names of the sessions idle for more than ``max_age_days``; never ``current`` (the target
    of ``session_latest``), however old it looks."""
    limit = now - max_age_days * SECONDS_PER_DAY
    return sorted(
        session.name
        for session in sessions
        if session.name != current and session.last_active < limit
    )


class FolderFile(msgspec.Struct, frozen=True):
    """A file in a camera's folder."""

    path: str
    relative: str  # below the camera's folder, ``/``-separated
    size: int
    mtime: float


def stray_files(
    files: Iterable[FolderFile], explained: set[str], now: float, grace_seconds: float
) -> list[FolderFile]:
    """The ``files`` to sweep: no ledger row explains them (``explained`` holds the ledger's
    paths), the pipeline would never take them, and they were last written more than
    ``grace_seconds`` before ``now`` (so an upload in progress, or a temporary name about to
    be renamed, stays)."""
    before = now - grace_seconds
    return [
        file
        for file in files
        if file.mtime < before
        and ledger_path(file.path) not in explained
        and upload_name_refusal(file.relative, temporary_allowed=False) is not None
    ]
