"""``/api/cameras/{id}/ftp-account``: create or reset a camera's FTP account, remove it; the
camera's JSON says whether it has one, never the password or its hash. ``/api/camera-accounts``:
a new camera with its account in one step, logged in to by a real FTP client."""

from __future__ import annotations

import asyncio
import ftplib
import io

import msgspec
import pytest
from sqlalchemy import func, select

from homesec.files.ftp_server import AccountTable, FtpServer, FtpServerConfig
from homesec.files.network import lan_address
from homesec.models import Camera, CameraAccount
from homesec.policy.camera_accounts import verify_password
from homesec.store import camera_accounts
from tests.support.rows import add_camera

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2000 + b"\xff\xd9"


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


# --- a camera and its account in one step (the dashboard's "Add a camera") ------------------


async def test_a_new_camera_comes_with_its_account_and_the_settings_to_enter(
    client, db_sessions, settings
) -> None:
    response = await client.post("/api/camera-accounts", json={"name": "Front Door"})
    assert response.status_code == 201
    body = response.json()
    camera, account = body["camera"], body["ftp_account"]
    assert camera["id"] == "front_door" and camera["name"] == "Front Door"
    assert camera["last_seen_at"] is None and camera["status"] == "offline"  # nothing uploaded
    assert camera["has_ftp_account"] is True and camera["ftp_username"] == "front_door"
    assert camera["folder_path"] == str(settings.foscam_base_path / "front_door")
    assert (settings.foscam_base_path / "front_door").is_dir()
    # What `homesec camera add` prints: server, port, user, password, folder, TLS, passive.
    assert account["server"] == lan_address()  # FTP_HOST 0.0.0.0: this machine's address
    assert (account["username"], account["port"], account["folder"]) == (
        "front_door", settings.ftp_port, "/",
    )  # fmt: skip
    assert account["tls"] is False and account["self_signed"] is False
    assert account["passive_ports"] == "60000-60099" and account["server_enabled"] is True
    assert account["created"] is True and account["camera_id"] == "front_door"
    password = account["password"]
    assert len(password) == 20 and password.isalnum()
    assert verify_password(password, await _stored_hash(db_sessions, "front_door"))
    # The camera's own JSON never holds the password, and is the one in the answer.
    read = (await client.get("/api/cameras/front_door")).json()
    assert read == camera and password not in str(read)


async def test_a_chosen_password_and_the_server_named_by_the_settings(
    make_app, db_sessions, settings
) -> None:
    from litestar.testing import AsyncTestClient

    chosen = msgspec.structs.replace(
        settings, ftp_host="192.168.1.20", ftp_port=21, ftp_tls=True, ftp_enabled=False
    )
    async with AsyncTestClient(make_app(settings=chosen)) as client:
        response = await client.post(
            "/api/camera-accounts", json={"name": "Back Yard", "password": "my-own-pw-1"}
        )
    assert response.status_code == 201
    account = response.json()["ftp_account"]
    assert (account["server"], account["port"], account["password"]) == (
        "192.168.1.20", 21, "my-own-pw-1",
    )  # fmt: skip
    assert account["tls"] is True and account["self_signed"] is True
    assert account["server_enabled"] is False
    assert verify_password("my-own-pw-1", await _stored_hash(db_sessions, "back_yard"))


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"name": "!!!"}, 400, "no letters or digits"),
        ({"name": ""}, 400, "name"),
        ({"name": "x" * 256}, 400, "name"),
        ({}, 400, "name"),
        ({"name": "Porch", "password": "short"}, 400, "password"),
        ({"name": "Porch", "password": "has space in it"}, 400, "password"),
        ({"name": "Porch", "id": "porch-2"}, 400, "id"),
    ],
)
async def test_bad_names_and_passwords_are_refused_with_a_reason(
    client, db_sessions, settings, body, status, expected
) -> None:
    response = await client.post("/api/camera-accounts", json=body)
    assert response.status_code == status, response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert expected in response.json()["detail"], response.json()
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Camera)) == 0
        assert await session.scalar(select(func.count()).select_from(CameraAccount)) == 0
    assert list(settings.foscam_base_path.iterdir()) == []


async def test_a_taken_id_is_a_conflict_and_changes_nothing(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "porch")  # found in a folder, no account
    response = await client.post("/api/camera-accounts", json={"name": "PORCH"})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "already exists" in response.json()["detail"]
    assert await _stored_hash(db_sessions, "porch") is None
    async with db_sessions() as session:
        assert (await session.get(Camera, "porch")).name == "Porch"


async def test_the_documented_operation_names_its_errors(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    responses = document["paths"]["/api/camera-accounts"]["post"]["responses"]
    assert {"201", "400", "409", "503"} <= set(responses)
    for status in ("400", "409"):
        assert list(responses[status]["content"]) == ["application/problem+json"]


def _ftp_login_and_upload(address: tuple[str, int], user: str, password: str) -> list[str]:
    client = ftplib.FTP(timeout=10)
    client.connect(*address)
    try:
        client.login(user, password)
        client.storbinary("STOR first.jpg", io.BytesIO(JPEG))
        return client.nlst()
    finally:
        client.close()


async def test_a_real_ftp_client_logs_in_with_the_password_shown_and_only_the_newest(
    client, db_sessions, settings
) -> None:
    added = (await client.post("/api/camera-accounts", json={"name": "Gate"})).json()
    first = added["ftp_account"]["password"]
    reset = (await client.post("/api/cameras/gate/ftp-account")).json()
    newest = reset["password"]
    assert reset["created"] is False and newest != first and reset["server"] == lan_address()
    # homesec's FTP server with the accounts as it reads them from the table.
    table = AccountTable(await camera_accounts.ftp_accounts(db_sessions))
    received: list[tuple[str, str]] = []
    config = FtpServerConfig(host="127.0.0.1", port=0, auth_failed_delay=0.01)
    server = FtpServer(config, table, lambda camera, path: received.append((camera, path)))
    server.start()
    try:
        with pytest.raises(ftplib.error_perm, match=r"^530"):
            await asyncio.to_thread(_ftp_login_and_upload, server.address, "gate", first)
        listed = await asyncio.to_thread(_ftp_login_and_upload, server.address, "gate", newest)
    finally:
        server.stop()
    assert listed == ["first.jpg"]
    landed = settings.foscam_base_path / "gate" / "first.jpg"
    assert landed.read_bytes() == JPEG
    assert received == [("gate", str(landed))]
