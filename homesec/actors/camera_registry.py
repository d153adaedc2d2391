"""Cameras from folders: every folder under ``FOSCAM_BASE_PATH`` is a camera, its id the folder's
normalised name. Used by the supervisor (which actors to run) and by each watcher (its own row).
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera
from homesec.pipeline.cameras import InvalidCameraId, normalize_camera_id


class CameraFolder(msgspec.Struct, frozen=True):
    camera_id: str
    name: str  # the folder's own name, shown to people
    folder_path: str


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


async def register_cameras(
    sessions: async_sessionmaker[AsyncSession], folders: list[CameraFolder]
) -> None:
    """Insert cameras that are new; existing rows (names a user edited) are left as they are."""
    if not folders:
        return
    async with sessions.begin() as session:
        statement = insert(Camera).values(
            [{"id": f.camera_id, "name": f.name, "folder_path": f.folder_path} for f in folders]
        )
        await session.execute(statement.on_conflict_do_nothing(index_elements=[Camera.id]))


async def registered_cameras(sessions: async_sessionmaker[AsyncSession]) -> list[CameraFolder]:
    """Every camera in PostgreSQL, whether found in a folder or added through the API."""
    async with sessions() as session:
        rows = await session.execute(select(Camera.id, Camera.name, Camera.folder_path))
        return [CameraFolder(camera_id, name, folder) for camera_id, name, folder in rows.all()]
