"""The CameraWatcher's filesystem side: which names count, what a file looks like right now, and
the watchdog handler that carries events from the observer's thread to the actor's event loop.

Names (the rule is :func:`homesec.policy.uploads.is_ignored_name`, which the FTP server
asks too; documented in the actor):

- ignored quietly, no ledger row: anything below a hidden folder or named with a leading dot
  (``.hidden.jpg``, ``.sync/``), and the temporary names FTP servers write before renaming into
  place (``*.tmp``, ``*.part``, ``*.filepart``);
- every other file is a candidate; validation rejects a non-image extension (``bad_extension``)
  once, with a ledger row.

Paths stay the ``str`` ``os.fsdecode`` gives, so the watcher can open what it was told about.
A name that is not valid UTF-8 decodes to lone surrogates, which neither PostgreSQL, JSON nor
Redis can carry: :func:`ledger_path` gives the escaped text that stands for it in the ledger,
and the watcher rejects such a file (``undecodable_name``) instead of queueing a path the
detector could not open.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import logging
import os
import stat
from collections.abc import Callable, Iterable

import msgspec
from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from homesec.policy.uploads import (
    TAIL_BYTES,
    FileSeen,
    is_ignored_name,
    tail_looks_complete,
)
from homesec.policy.validation import has_allowed_extension

log = logging.getLogger("homesec.watcher")

# How often the polling observer lists the folder (NFS/SMB, or inotify out of watches).
POLLING_INTERVAL_SECONDS = 1.0
UNDECODABLE_NAME = "undecodable_name"  # the ledger's reason for a name that is not UTF-8

# The events the watcher acts on; the rest (opened, attrib, directory modified) is noise.
WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
]


def is_ignored(path: str, folder: str) -> bool:
    """Hidden (a dot-named file or folder on the way) or an FTP server's temporary name
    (:func:`homesec.policy.uploads.is_ignored_name`, which the FTP server asks too)."""
    return is_ignored_name(os.path.relpath(path, folder).replace(os.sep, "/"))


def look_at(path: str, *, read_tail: bool = True) -> FileSeen | None:
    """Stat ``path`` (without following a symlink) and read its tail; None if it is gone or a
    folder. A symlink is described by the link itself: where it leads is validation's call, and
    nothing outside the camera folder is read before that."""
    try:
        info = os.lstat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(info.st_mode):
        return None
    tail = None
    if read_tail and stat.S_ISREG(info.st_mode) and has_allowed_extension(path):
        tail = _tail_complete(path, info.st_size)
    return FileSeen(path, info.st_size, info.st_mtime, tail)


def _tail_complete(path: str, size: int) -> bool | None:
    # O_NONBLOCK: a FIFO swapped in since the stat must not block the thread.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        return tail_looks_complete(os.pread(fd, TAIL_BYTES, max(0, size - TAIL_BYTES)))
    except OSError:
        return None
    finally:
        os.close(fd)


def look_at_all(paths: Iterable[str]) -> dict[str, FileSeen | None]:
    return {path: look_at(path) for path in paths}


def list_files(folder: str, camera_folder: str | None = None) -> list[FileSeen]:
    """Every candidate file below ``folder``, recursively (cameras upload into dated
    subfolders), without descending into symlinked folders or hidden ones. ``camera_folder``,
    when ``folder`` is one of its subfolders, is where the ignore rule starts."""
    root = camera_folder or folder
    found = []
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            path = os.path.join(directory, name)
            if is_ignored(path, root):
                continue
            seen = look_at(path, read_tail=False)
            if seen is not None:
                found.append(seen)
    return found


# --- events from the observer's thread ---------------------------------------------------------


class ChangeKind(enum.Enum):
    TOUCHED = "touched"  # created or written to: stat it on the next tick
    CLOSED = "closed"  # the writer closed it (or renamed it into place): complete as seen
    GONE = "gone"
    FOLDER = "folder"  # a folder appeared: list what is in it


class FileChange(msgspec.Struct, frozen=True):
    kind: ChangeKind
    path: str
    at: float
    seen: FileSeen | None = None  # for CLOSED: the file as it was right after the close


class FolderEvents(FileSystemEventHandler):
    """Runs in the observer's thread: turns each event into :class:`FileChange` values and hands
    them to the actor's loop. It never touches Redis or the database; the stat of a closed file
    happens here, as close to the close as possible, so a rewrite after it is told apart."""

    def __init__(
        self,
        folder: str,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[FileChange], None],
        clock: Callable[[], float],
    ) -> None:
        self.folder = folder
        self.loop = loop
        self.deliver = deliver
        self.clock = clock

    def on_any_event(self, event: FileSystemEvent) -> None:
        for change in self._changes(event):
            try:
                self.loop.call_soon_threadsafe(self.deliver, change)
            except RuntimeError:  # the loop is closed: the actor is going away
                return

    def _changes(self, event: FileSystemEvent) -> list[FileChange]:
        now = self.clock()
        source = os.fsdecode(event.src_path)
        if isinstance(event, DirCreatedEvent | DirMovedEvent):
            target = os.fsdecode(event.dest_path) if event.dest_path else source
            if is_ignored(target, self.folder):
                return []
            return [FileChange(ChangeKind.FOLDER, target, now)]
        if isinstance(event, FileMovedEvent):
            # A rename into place is how FTP servers finish a temp-named upload: the writer
            # is done, so the new name counts as closed.
            target = os.fsdecode(event.dest_path)
            changes = [FileChange(ChangeKind.GONE, source, now)]
            if not is_ignored(target, self.folder):
                seen = look_at(target, read_tail=False)
                kind = ChangeKind.CLOSED if seen is not None else ChangeKind.GONE
                changes.append(FileChange(kind, target, now, seen))
            return changes
        if is_ignored(source, self.folder):
            return []
        if isinstance(event, FileClosedEvent):
            seen = look_at(source, read_tail=False)
            if seen is None:
                return [FileChange(ChangeKind.GONE, source, now)]
            return [FileChange(ChangeKind.CLOSED, source, now, seen)]
        if isinstance(event, FileDeletedEvent):
            return [FileChange(ChangeKind.GONE, source, now)]
        if isinstance(event, FileCreatedEvent | FileModifiedEvent):
            return [FileChange(ChangeKind.TOUCHED, source, now)]
        return []


def start_observer(
    folder: str, handler: FolderEvents, *, polling: bool
) -> tuple[BaseObserver, bool]:
    """Watch ``folder`` and its subfolders; returns the started observer and whether it polls.
    inotify out of watches or instances (ENOSPC, EMFILE) falls back to polling. Blocking (one
    inotify watch per subfolder): call it in a worker thread."""
    try:
        return _started_observer(folder, handler, polling), polling
    except OSError as exc:
        if polling or exc.errno not in (errno.ENOSPC, errno.EMFILE):
            raise
        log.warning("inotify unavailable for %s (%s): polling instead", folder, exc)
        return _started_observer(folder, handler, True), True


def _started_observer(folder: str, handler: FolderEvents, polling: bool) -> BaseObserver:
    observer = PollingObserver(timeout=POLLING_INTERVAL_SECONDS) if polling else Observer()
    observer.schedule(handler, folder, recursive=True, event_filter=WATCHED_EVENTS)
    observer.start()
    return observer
