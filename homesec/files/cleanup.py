"""The Janitor's filesystem work: delete files safely, list what a folder holds, Ray's sessions.

Blocking calls; the Janitor runs them in a worker thread.

A path comes from the database, and a row can point anywhere (a bug, a restore from another
machine, a hand edit), so a file is deleted only when all of these hold, and otherwise it is
refused and reported:

- the path is absolute, without ``..`` or NUL;
- its folder, symlinks resolved, lies inside the one root allowed for its kind (the thumbnail
  directory for thumbnails, ``FOSCAM_BASE_PATH`` for original images), resolved too;
- the entry itself is a regular file: a symlink is neither followed nor removed.

A file modified at or after ``modified_before`` is kept: it was (re)written after the decision
was made, by a detector retrying a job or a camera reusing a file name.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

import msgspec

from homesec.policy.retention import FileFacts, FolderFile, RaySession

RAY_SESSION_PREFIX = "session_"
RAY_LATEST_SESSION = "session_latest"
MAX_PATHS_IN_A_WARNING = 5


class FileRemoval(msgspec.Struct, kw_only=True):
    """What one pass over a list of paths did (or, in a dry run, would do)."""

    removed: list[str] = []
    bytes_removed: int = 0  # sizes measured just before each deletion
    refused: list[str] = []  # outside the allowed root, or not a regular file
    failed: list[str] = []  # the deletion itself failed (permissions, a read-only disk)


def inside_root(path: str, real_root: Path) -> Path | None:
    """``path`` with its folder's symlinks resolved, when that lies inside ``real_root``."""
    candidate = Path(path)
    if not candidate.is_absolute() or ".." in candidate.parts or "\x00" in path:
        return None
    try:
        real = candidate.parent.resolve() / candidate.name
    except (OSError, RuntimeError):  # a symlink loop, an unreadable parent
        return None
    return real if real != real_root and real.is_relative_to(real_root) else None


def remove_files(
    paths: Iterable[str], root: Path, *, modified_before: float, dry_run: bool
) -> FileRemoval:
    """Delete the regular files among ``paths`` inside ``root`` that were last modified before
    ``modified_before``; in a dry run, only measure them. Missing files are skipped quietly."""
    real_root = root.resolve()
    result = FileRemoval()
    for path in dict.fromkeys(paths):
        real = inside_root(path, real_root)
        if real is None:
            result.refused.append(path)
            continue
        try:
            info = os.lstat(real)
        except FileNotFoundError:
            continue
        except OSError:
            result.failed.append(path)
            continue
        if not stat.S_ISREG(info.st_mode):
            result.refused.append(path)
            continue
        if info.st_mtime >= modified_before:
            continue
        if not dry_run:
            try:
                os.unlink(real)
            except FileNotFoundError:  # removed by someone else meanwhile: not ours to count
                continue
            except OSError:
                result.failed.append(path)
                continue
        result.removed.append(path)
        result.bytes_removed += info.st_size
    return result


def warn_about_kept(log: logging.Logger, removals: Iterable[FileRemoval]) -> None:
    """One WARNING for the refused paths and one for the failed deletions, with a few examples."""
    removals = list(removals)
    refused = [path for removal in removals for path in removal.refused]
    failed = [path for removal in removals for path in removal.failed]
    if refused:
        log.warning(
            "refused to delete %d paths outside the thumbnail and camera folders or not regular "
            "files, such as %s",
            len(refused),
            refused[:MAX_PATHS_IN_A_WARNING],
        )
    if failed:
        log.warning(
            "could not delete %d files, such as %s", len(failed), failed[:MAX_PATHS_IN_A_WARNING]
        )


def list_files(root: Path) -> list[FileFacts]:
    """Every regular file below ``root``, symlinks not followed. Hidden names are skipped: the
    detector writes a thumbnail under a dot-name and renames it into place."""
    found: list[FileFacts] = []
    pending = [str(root)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    found.append(FileFacts(entry.path, info.st_size, info.st_mtime))
            except OSError:  # gone between the listing and the stat
                continue
    return found


def list_camera_files(folder: str) -> list[FolderFile]:
    """Every regular file below a camera's ``folder``, hidden ones too (that is where a stray
    upload hides), symlinks neither followed nor listed. Paths start with the folder's
    absolute path, as the watcher's (and so the ledger's) do."""
    folder = os.path.abspath(folder)
    found: list[FolderFile] = []
    pending = [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    relative = os.path.relpath(entry.path, folder).replace(os.sep, "/")
                    found.append(FolderFile(entry.path, relative, info.st_size, info.st_mtime))
            except OSError:  # gone between the listing and the stat
                continue
    return found


def look_at_files(paths: Iterable[str]) -> list[FileFacts]:
    """Size and mtime of those ``paths`` that are regular files now."""
    found: list[FileFacts] = []
    for path in paths:
        try:
            info = os.lstat(path)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(info.st_mode):
            found.append(FileFacts(path, info.st_size, info.st_mtime))
    return found


def absent(paths: Iterable[str]) -> set[str]:
    """The absolute ``paths`` where nothing exists now (not even a broken symlink). A relative
    path cannot be checked and never counts as absent."""
    return {path for path in paths if os.path.isabs(path) and not os.path.lexists(path)}


def filesystem_of(path: Path) -> int | None:
    """The device id of the filesystem holding ``path``; None when it does not exist."""
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


# --- Ray's session folders -------------------------------------------------------------------


def current_ray_session(temp_dir: Path) -> str | None:
    """The name ``session_latest`` points at (Ray's live session on this machine)."""
    try:
        return Path(os.readlink(temp_dir / RAY_LATEST_SESSION)).name
    except OSError:
        return None


def list_ray_sessions(temp_dir: Path) -> list[RaySession]:
    """Each ``session_*`` folder of ``temp_dir`` (not symlinks) with the newest mtime of the
    folder, its entries and its ``logs`` folder's entries: a session still running writes its
    logs, so its age is not the age of its name."""
    try:
        entries = list(os.scandir(temp_dir))
    except OSError:
        return []
    sessions = []
    for entry in entries:
        if not entry.name.startswith(RAY_SESSION_PREFIX) or entry.name == RAY_LATEST_SESSION:
            continue
        if entry.is_dir(follow_symlinks=False):
            sessions.append(RaySession(entry.name, _last_active(Path(entry.path))))
    return sessions


def _last_active(folder: Path) -> float:
    newest = 0.0
    for place in (folder, folder / "logs"):
        try:
            newest = max(newest, os.lstat(place).st_mtime)
            for entry in os.scandir(place):
                newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
        except OSError:
            continue
    return newest


def remove_ray_session(temp_dir: Path, name: str) -> bool:
    """Delete one session folder; False when it could not be (fully) removed."""
    if not name.startswith(RAY_SESSION_PREFIX) or "/" in name or name == RAY_LATEST_SESSION:
        return False
    try:
        shutil.rmtree(temp_dir / name)
    except OSError:
        return False
    return True
