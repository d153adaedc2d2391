"""``/api/cameras/{id}/ftp-account``: create or reset a camera's FTP account, remove it; the
camera's JSON says whether it has one, never the password or its hash."""

from __future__ import annotations

from sqlalchemy import select

from homesec.models import CameraAccount
from homesec.pipeline.camera_accounts import verify_password
from tests.test_http.conftest import add_camera


async def _stored_hash(db_sessions, camera_id: str) -> str | None:
    async with db_sessions() as session:
        return await session.scalar(
            select(CameraAccount.password_hash).where(CameraAccount.camera_id == camera_id)
        )


async def test_create_then_reset_shows_the_password_once_and_stores_a_hash(
    client, db_sessions, settings
) -> None:
    await add_camera(db_sessions, settings, "porch")
    created = await client.post("/api/cameras/porch/ftp-account")
    assert created.status_code == 201
    body = created.json()
    assert body["username"] == "porch" and body["created"] is True
    assert body["port"] == settings.ftp_port and body["tls"] is False and body["folder"] == "/"
    first = body["password"]
    assert len(first) == 20 and first.isalnum()
    stored = await _stored_hash(db_sessions, "porch")
    assert stored.startswith("scrypt$") and first not in stored
    assert verify_password(first, stored)

    camera = (await client.get("/api/cameras/porch")).json()
    assert camera["has_ftp_account"] is True and camera["ftp_username"] == "porch"
    assert "password" not in str(camera) and "scrypt" not in str(camera)
    listed = (await client.get("/api/cameras")).json()["items"]
    assert [(c["id"], c["ftp_username"]) for c in listed] == [("porch", "porch")]

    reset = await client.post("/api/cameras/porch/ftp-account", json={"password": "chosen-pw-1"})
    assert reset.status_code == 200
    assert reset.json()["created"] is False and reset.json()["password"] == "chosen-pw-1"
    stored = await _stored_hash(db_sessions, "porch")
    assert verify_password("chosen-pw-1", stored) and not verify_password(first, stored)


async def test_delete_removes_the_account_and_keeps_the_camera(
    client, db_sessions, settings
) -> None:
    await add_camera(db_sessions, settings, "drive")
    assert (await client.post("/api/cameras/drive/ftp-account")).status_code == 201
    assert (await client.delete("/api/cameras/drive/ftp-account")).status_code == 204
    assert await _stored_hash(db_sessions, "drive") is None
    camera = (await client.get("/api/cameras/drive")).json()
    assert camera["has_ftp_account"] is False and camera["ftp_username"] is None
    again = await client.delete("/api/cameras/drive/ftp-account")
    assert again.status_code == 404 and "no FTP account" in again.json()["detail"]


async def test_unknown_camera_and_bad_passwords_are_refused(client, db_sessions, settings) -> None:
    missing = await client.post("/api/cameras/nowhere/ftp-account")
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]
    await add_camera(db_sessions, settings, "yard")
    for password in ("short", "has space in it", "x" * 65):
        response = await client.post("/api/cameras/yard/ftp-account", json={"password": password})
        assert response.status_code == 400, password
    unknown = await client.post("/api/cameras/yard/ftp-account", json={"pass": "abcdefgh1"})
    assert unknown.status_code == 400 and "pass" in unknown.json()["detail"]


async def test_deleting_the_camera_deletes_its_account(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "gate")
    await client.post("/api/cameras/gate/ftp-account")
    assert (await client.delete("/api/cameras/gate")).status_code == 204
    assert await _stored_hash(db_sessions, "gate") is None
