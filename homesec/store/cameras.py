"""The ``cameras`` table: registering cameras found in folders, reading them back, a watcher's
view of its own row (status and last upload) and its status changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera
from homesec.policy.cameras import CameraFolder
from homesec.store import camera_accounts, logs

COMPONENT = "watcher"  # logs.component of a status change: the watcher writes them


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


async def camera_name_and_role_in(
    session: AsyncSession, camera_id: str
) -> tuple[str, str | None] | None:
    """The camera's name and role (None: not set, guessed from the name when scoring)."""
    row = (
        await session.execute(select(Camera.name, Camera.role).where(Camera.id == camera_id))
    ).one_or_none()
    return (row.name, row.role) if row is not None else None


async def enabled_among(
    sessions: async_sessionmaker[AsyncSession], camera_ids: set[str]
) -> set[str]:
    """Which of these cameras exist and are enabled (a Batcher runs, or will, for each)."""
    return await _with_switch(sessions, camera_ids, enabled=True)


async def disabled_among(
    sessions: async_sessionmaker[AsyncSession], camera_ids: set[str]
) -> set[str]:
    """Which of these cameras are disabled (their uploads are kept, not analysed)."""
    return await _with_switch(sessions, camera_ids, enabled=False)


async def _with_switch(
    sessions: async_sessionmaker[AsyncSession], camera_ids: set[str], *, enabled: bool
) -> set[str]:
    if not camera_ids:
        return set()
    async with sessions() as session:
        rows = await session.scalars(
            select(Camera.id).where(Camera.id.in_(sorted(camera_ids)), Camera.enabled.is_(enabled))
        )
        return set(rows.all())


def mark_seen(camera_id: str, seen_at: dt.datetime):
    """The UPDATE that moves ``last_seen_at`` to ``seen_at``; GREATEST: files found late (after
    a restart) never move it backwards."""
    return (
        update(Camera)
        .where(Camera.id == camera_id)
        .values(last_seen_at=func.greatest(func.coalesce(Camera.last_seen_at, seen_at), seen_at))
    )


class CameraState(msgspec.Struct, frozen=True):
    status: str | None
    last_seen_at: float | None  # epoch seconds


async def camera_state(sessions: async_sessionmaker[AsyncSession], camera_id: str) -> CameraState:
    async with sessions() as session:
        row = (
            await session.execute(
                select(Camera.status, Camera.last_seen_at).where(Camera.id == camera_id)
            )
        ).one_or_none()
    if row is None:
        return CameraState(None, None)
    last_seen = row.last_seen_at.timestamp() if row.last_seen_at is not None else None
    return CameraState(row.status, last_seen)


async def record_camera_status(
    sessions: async_sessionmaker[AsyncSession],
    *,
    camera_id: str,
    status: str,
    previous: str | None,
    reason: str,
) -> None:
    """The camera's new status, and a log record of the change, in one transaction."""
    level = "INFO" if status == "online" else "WARNING"
    async with sessions.begin() as session:
        await session.execute(update(Camera).where(Camera.id == camera_id).values(status=status))
        logs.add_in(
            session,
            level=level,
            component=COMPONENT,
            camera_id=camera_id,
            message=f"camera {camera_id} is {status} (was {previous}): {reason}",
            extra={"status": status, "previous_status": previous, "reason": reason},
        )


# --- the owner's changes (the dashboard and the API) --------------------------------------------
class CameraExists(ValueError):
    """A camera has that id already."""


async def add_camera(
    sessions: async_sessionmaker[AsyncSession],
    camera: CameraFolder,
    status: str,
    *,
    password_hash: str | None = None,
) -> None:
    """Register a new camera and, given its password's hash, its FTP account, in one
    transaction. Raises :class:`CameraExists` when the id is taken."""
    try:
        async with sessions.begin() as session:
            if await session.get(Camera, camera.camera_id) is not None:
                raise CameraExists(camera.camera_id)
            session.add(
                Camera(
                    id=camera.camera_id,
                    name=camera.name,
                    folder_path=camera.folder_path,
                    status=status,
                )
            )
            await session.flush()
            if password_hash is not None:
                await camera_accounts.add_account(session, camera.camera_id, password_hash)
    except IntegrityError:  # registered by someone else since the check
        raise CameraExists(camera.camera_id) from None


async def update_camera(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, changes: Mapping[str, object]
) -> bool:
    """Set the given columns of the camera; False when there is no such camera."""
    async with sessions.begin() as session:
        if not changes:
            return await session.get(Camera, camera_id) is not None
        changed = await session.execute(
            update(Camera).where(Camera.id == camera_id).values(**changes).returning(Camera.id)
        )
        return changed.scalar_one_or_none() is not None
