"""``camera_accounts`` in PostgreSQL: create with the camera, verify, new password, removal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from homesec.models import Camera, CameraAccount
from homesec.policy.cameras import CameraFolder
from homesec.store import camera_accounts, cameras

PORCH = CameraFolder("porch", "Porch", "/srv/cameras/porch")


async def test_create_registers_the_camera_and_verifies_only_the_right_password(db_sessions):
    account = await camera_accounts.create_account(db_sessions, PORCH, "first-password")
    assert (account.username, account.camera_id, account.folder_path) == (
        "porch", "porch", "/srv/cameras/porch",
    )  # fmt: skip
    assert [c.camera_id for c in await cameras.registered_cameras(db_sessions)] == ["porch"]
    assert await camera_accounts.verify(db_sessions, "porch", "first-password") == account
    assert await camera_accounts.verify(db_sessions, "porch", "wrong-password") is None
    assert await camera_accounts.verify(db_sessions, "nobody", "first-password") is None
    with pytest.raises(camera_accounts.AccountExists):
        await camera_accounts.create_account(db_sessions, PORCH, "second-password")
    [listed] = await camera_accounts.list_accounts(db_sessions)
    assert listed == account
    [ftp] = await camera_accounts.ftp_accounts(db_sessions)
    assert ftp.password_hash.startswith("scrypt$") and "first-password" not in ftp.password_hash


async def test_a_camera_found_in_a_folder_keeps_its_folder_and_name(db_sessions):
    found = CameraFolder("front_door", "Front Door", "/srv/cameras/Front Door")
    await cameras.register_cameras(db_sessions, [found])
    asked = CameraFolder("front_door", "front door", "/srv/cameras/front_door")
    account = await camera_accounts.create_account(db_sessions, asked, "a-password")
    assert account.folder_path == "/srv/cameras/Front Door"
    async with db_sessions() as session:
        assert await session.scalar(select(Camera.name)) == "Front Door"


async def test_set_password_and_remove(db_sessions):
    assert await camera_accounts.set_password(db_sessions, "porch", "x-password") is None
    await camera_accounts.create_account(db_sessions, PORCH, "first-password")
    changed = await camera_accounts.set_password(db_sessions, "porch", "new-password")
    assert changed is not None and changed.updated_at >= changed.created_at
    assert await camera_accounts.verify(db_sessions, "porch", "first-password") is None
    assert await camera_accounts.verify(db_sessions, "porch", "new-password") is not None
    assert await camera_accounts.remove_account(db_sessions, "porch") is True
    assert await camera_accounts.remove_account(db_sessions, "porch") is False
    assert [c.camera_id for c in await cameras.registered_cameras(db_sessions)] == ["porch"]

    await camera_accounts.create_account(db_sessions, PORCH, "again-password")
    assert await camera_accounts.remove_camera(db_sessions, "porch") == PORCH
    assert await camera_accounts.remove_camera(db_sessions, "porch") is None
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CameraAccount)) == 0
