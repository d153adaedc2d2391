"""Camera folders on disk: every folder under ``FOSCAM_BASE_PATH`` is a camera, its id the folder's
normalised name; and whether a watcher can read its folder."""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import stat
from pathlib import Path

from homesec.policy.camera_health import FolderState
from homesec.policy.cameras import CameraFolder, InvalidCameraId, normalize_camera_id


def discover_camera_folders(base_path: Path) -> list[CameraFolder]:
    """The camera folders directly under ``base_path`` (hidden and unusable names skipped)."""
    try:
        entries = sorted(os.scandir(base_path), key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    found: dict[str, CameraFolder] = {}
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=True):
            continue
        try:
            camera_id = normalize_camera_id(entry.name)
        except InvalidCameraId:
            continue
        # Two folders normalising to one id ("Front Door", "front_door"): the first one wins,
        # sorted by name, so the choice is stable across restarts.
        found.setdefault(camera_id, CameraFolder(camera_id, entry.name, str(Path(entry.path))))
    return list(found.values())


def probe_folder(path: str) -> FolderState:
    """Can the watcher list this folder? Reading one entry proves it, also for root (whom
    ``os.access`` would always answer yes) and on network mounts."""
    try:
        with os.scandir(path) as entries:
            next(entries, None)
    except (FileNotFoundError, NotADirectoryError):
        return FolderState.MISSING
    except OSError:
        return FolderState.UNREADABLE
    return FolderState.OK


REMOVED_FOLDER = ".removed"  # under FOSCAM_BASE_PATH; discovery skips dot names


def archive_folder(folder: Path, base_path: Path, stamp: str) -> Path | None:
    """Move a removed camera's folder, images and all, to ``<base>/.removed/<name>-<stamp>``,
    where discovery does not register it again; None when there was no folder, or it lies
    outside ``base_path`` (discovery never finds such a folder, and it is not ours to move).

    The name is unique: when ``<name>-<stamp>`` is taken (the same camera removed twice within
    the stamp's second) it gets ``-2``, ``-3`` and so on. The name is claimed by creating the
    empty folder, which only one caller can do, and the camera's folder then replaces it (a
    rename onto an empty folder), so two removals never nest one archive in the other.
    """
    if not folder.is_dir() or not folder.resolve().is_relative_to(base_path.resolve()):
        return None
    archive = base_path / REMOVED_FOLDER
    archive.mkdir(parents=True, exist_ok=True)
    target = _claim(archive, f"{folder.name}-{stamp}")
    try:
        os.replace(folder, target)
    except OSError as exc:
        target.rmdir()
        if exc.errno != errno.EXDEV:
            raise
        # The camera's folder is a mount of its own: copy across, then remove.
        shutil.move(str(folder), str(target))
    return target


def _claim(archive: Path, name: str) -> Path:
    for attempt in itertools.count(1):
        target = archive / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            target.mkdir()
        except FileExistsError:
            continue
        return target
    raise AssertionError("unreachable")  # itertools.count never ends


REJECTED_FOLDER = ".rejected"  # under FOSCAM_BASE_PATH: rejected uploads, kept a while


def rejected_folder(base_path: Path, camera_id: str) -> Path:
    """Where a camera's rejected uploads are kept: ``<base>/.rejected/<camera id>``. No watcher
    watches it (discovery skips dot names); the Janitor deletes what is older than
    ``REJECTED_UPLOAD_RETENTION_DAYS``."""
    return base_path / REJECTED_FOLDER / camera_id


def set_aside(path: str, camera_folder: str, aside: Path) -> Path | None:
    """Move the rejected upload at ``path`` out of ``camera_folder`` to the same place below
    ``aside`` (a file of the same name there is replaced: the newest rejection is kept). None
    when there is nothing to move: gone, a folder, or not really inside the camera's folder (a
    path through a symlink leading out is never followed: what lies outside is not ours)."""
    relative = os.path.relpath(path, camera_folder)
    if relative.startswith(os.pardir) or os.path.isabs(relative):
        return None
    try:
        real_folder = os.path.realpath(camera_folder)
        real_parent = os.path.realpath(os.path.dirname(path))
        info = os.lstat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(info.st_mode) or os.path.commonpath([real_parent, real_folder]) != real_folder:
        return None
    target = aside / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV or not stat.S_ISREG(info.st_mode):
            raise
        shutil.move(path, target)  # the camera's folder is a mount of its own
    return target
