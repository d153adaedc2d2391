"""The ``camera_accounts`` table: each camera's FTP login for the built-in server.

A password enters here in plain text and is stored only as its scrypt hash (hashed in a worker
thread: some 50 ms of CPU that must not stall an event loop). Reads give
:class:`~homesec.policy.camera_accounts.AccountInfo` (what may be shown) or, for the FTP
server alone, :class:`~homesec.policy.camera_accounts.FtpAccount` (with the hash).

Removing an account leaves its camera; :func:`remove_camera` removes the camera row, whose
cascade takes the account, uploads, detections and events. What becomes of the folder is the
caller's (the CLI archives it; see ``homesec camera remove``).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera, CameraAccount
from homesec.policy.camera_accounts import (
    AccountInfo,
    FtpAccount,
    hash_password,
    verify_password,
)
from homesec.policy.cameras import CameraFolder

# Verified against when the user name is unknown, so an unknown name costs the same time.
_NO_ACCOUNT_HASH = hash_password("no such account")


class AccountExists(ValueError):
    """The camera has an account already (``camera passwd`` resets its password)."""


def _info(account: CameraAccount, folder_path: str) -> AccountInfo:
    return AccountInfo(
        username=account.username,
        camera_id=account.camera_id,
        folder_path=folder_path,
        created_at=account.created_at.timestamp(),
        updated_at=account.updated_at.timestamp(),
    )


async def _with_folder(session: AsyncSession, camera_id: str) -> tuple[CameraAccount, str] | None:
    row = (
        await session.execute(
            select(CameraAccount, Camera.folder_path)
            .join(Camera, Camera.id == CameraAccount.camera_id)
            .where(CameraAccount.camera_id == camera_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def create_account(
    sessions: async_sessionmaker[AsyncSession], camera: CameraFolder, password: str
) -> AccountInfo:
    """Register the camera (an existing row, found in a folder or made through the API, is
    kept with its folder) and give it an account named after its id. Raises
    :class:`AccountExists` when it has one."""
    hashed = await asyncio.to_thread(hash_password, password)
    try:
        async with sessions.begin() as session:
            await session.execute(
                insert(Camera)
                .values(id=camera.camera_id, name=camera.name, folder_path=camera.folder_path)
                .on_conflict_do_nothing(index_elements=[Camera.id])
            )
            if await _with_folder(session, camera.camera_id) is not None:
                raise AccountExists(camera.camera_id)
            session.add(
                CameraAccount(
                    camera_id=camera.camera_id, username=camera.camera_id, password_hash=hashed
                )
            )
    except IntegrityError:  # made by someone else meanwhile
        raise AccountExists(camera.camera_id) from None
    account = await account_info(sessions, camera.camera_id)
    assert account is not None
    return account


async def add_account(session: AsyncSession, camera_id: str, password_hash: str) -> None:
    """Give a camera registered in the caller's transaction its account (user: its id).
    A building block: joins the caller's transaction and never commits; the caller hashes the
    password (:func:`~homesec.policy.camera_accounts.hash_password`, in a worker thread)."""
    session.add(CameraAccount(camera_id=camera_id, username=camera_id, password_hash=password_hash))
    await session.flush()


async def set_password(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, password: str
) -> AccountInfo | None:
    """A new password for the camera's account; None when it has none."""
    hashed = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        changed = await session.execute(
            update(CameraAccount)
            .where(CameraAccount.camera_id == camera_id)
            .values(password_hash=hashed, updated_at=func.now())
            .returning(CameraAccount.id)
        )
        if changed.scalar_one_or_none() is None:
            return None
    return await account_info(sessions, camera_id)


async def reset_account(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, password: str
) -> tuple[AccountInfo, bool] | None:
    """Create the account of a registered camera, or give it a new password: the account and
    whether it was created; None when there is no such camera."""
    hashed = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        if await session.get(Camera, camera_id) is None:
            return None
        statement = insert(CameraAccount).values(
            camera_id=camera_id, username=camera_id, password_hash=hashed
        )
        written = await session.execute(
            statement.on_conflict_do_update(
                index_elements=[CameraAccount.camera_id],
                set_={"password_hash": hashed, "updated_at": func.now()},
            ).returning(CameraAccount.created_at, CameraAccount.updated_at)
        )
        created_at, updated_at = written.one()
    account = await account_info(sessions, camera_id)
    assert account is not None
    return account, created_at == updated_at


async def remove_account(sessions: async_sessionmaker[AsyncSession], camera_id: str) -> bool:
    """Remove the camera's account (the camera stays); False when it had none."""
    async with sessions.begin() as session:
        removed = await session.execute(
            delete(CameraAccount)
            .where(CameraAccount.camera_id == camera_id)
            .returning(CameraAccount.id)
        )
        return removed.scalar_one_or_none() is not None


async def remove_camera(
    sessions: async_sessionmaker[AsyncSession], camera_id: str
) -> CameraFolder | None:
    """Remove the camera row with everything that cascades from it (account, uploads,
    detections, events); the camera as it was, or None when there was none."""
    async with sessions.begin() as session:
        removed = await session.execute(
            delete(Camera)
            .where(Camera.id == camera_id)
            .returning(Camera.id, Camera.name, Camera.folder_path)
        )
        row = removed.one_or_none()
    return None if row is None else CameraFolder(row[0], row[1], row[2])


async def account_info(
    sessions: async_sessionmaker[AsyncSession], camera_id: str
) -> AccountInfo | None:
    async with sessions() as session:
        found = await _with_folder(session, camera_id)
    return None if found is None else _info(*found)


async def list_accounts(sessions: async_sessionmaker[AsyncSession]) -> list[AccountInfo]:
    async with sessions() as session:
        rows = await session.execute(
            select(CameraAccount, Camera.folder_path)
            .join(Camera, Camera.id == CameraAccount.camera_id)
            .order_by(CameraAccount.username)
        )
        return [_info(account, folder) for account, folder in rows.all()]


async def usernames_in(session: AsyncSession, camera_ids: list[str]) -> dict[str, str]:
    """camera id -> account user name, for the cameras among ``camera_ids`` that have one."""
    if not camera_ids:
        return {}
    rows = await session.execute(
        select(CameraAccount.camera_id, CameraAccount.username).where(
            CameraAccount.camera_id.in_(camera_ids)
        )
    )
    return {camera_id: username for camera_id, username in rows.all()}


async def ftp_accounts(sessions: async_sessionmaker[AsyncSession]) -> list[FtpAccount]:
    """Every account with its hash and folder: the FTP server's table."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                CameraAccount.username,
                CameraAccount.camera_id,
                Camera.folder_path,
                CameraAccount.password_hash,
            ).join(Camera, Camera.id == CameraAccount.camera_id)
        )
        return [
            FtpAccount(username=u, camera_id=c, folder_path=f, password_hash=h)
            for u, c, f, h in rows.all()
        ]


async def verify(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str
) -> AccountInfo | None:
    """The account when ``password`` is its password, else None; an unknown name takes as long
    as a wrong password (a hash is checked either way, compared in constant time)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(CameraAccount, Camera.folder_path)
                .join(Camera, Camera.id == CameraAccount.camera_id)
                .where(CameraAccount.username == username)
            )
        ).one_or_none()
    stored = row[0].password_hash if row is not None else _NO_ACCOUNT_HASH
    matches = await asyncio.to_thread(verify_password, password, stored)
    return _info(row[0], row[1]) if matches and row is not None else None
