"""`homesec camera ...` against a real PostgreSQL: what the owner reads in the terminal."""

from __future__ import annotations

import ftplib

import pytest

from homesec.files.ftp_server import AccountTable, FtpServer, FtpServerConfig
from homesec.ops import cameras
from homesec.ops.cameras import camera_add, camera_list
from homesec.ops.cli import build_parser
from homesec.policy.camera_accounts import FtpAccount, hash_password
from homesec.policy.ftp_policy import BanPolicy
from homesec.settings import load_settings


def test_camera_list_shows_each_cameras_name_beside_its_id(tmp_path, clean_db, database_url):
    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url})
    printed: list[str] = []
    assert camera_add(settings, "Front Door", None, say=lambda _: None) == 0
    assert camera_add(settings, "Garage (side entrance)", None, say=lambda _: None) == 0

    assert camera_list(settings, say=printed.append) == 0

    header, *rows = printed
    assert header.split() == ["CAMERA", "NAME", "FTP", "USER", "FOLDER"]
    assert rows[0].startswith("front_door") and "Front Door" in rows[0]
    assert rows[1].startswith("garage_side_entrance") and "Garage (side entrance)" in rows[1]
    # Columns line up: every row's name starts where the header's NAME does.
    column = header.index("NAME")
    assert [
        row[column:].startswith(name)
        for row, name in zip(rows, ["Front Door", "Garage (side entrance)"], strict=True)
    ] == [True, True]


def test_camera_unban_lifts_a_ban_of_the_running_ftp_server(tmp_path, monkeypatch):
    """`homesec camera unban ADDRESS`: the running FTP server (here one in this process, reached
    where the command would reach the FtpServer actor) lets the address in again at once."""
    folder = tmp_path / "cameras" / "porch"
    folder.mkdir(parents=True)
    account = FtpAccount(
        username="porch",
        camera_id="porch",
        folder_path=str(folder),
        password_hash=hash_password("porch-secret-1"),
    )
    config = FtpServerConfig(
        host="127.0.0.1", port=0, ban=BanPolicy(attempts=2, ban_seconds=900), auth_failed_delay=0
    )
    server = FtpServer(config, AccountTable([account]), lambda camera, path: None)
    server.start()
    reached: list[str] = []

    def lift(settings, address):
        reached.append(address)
        return server.state.unban(address)

    monkeypatch.setattr(cameras, "_lift_ban", lift)
    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path)})

    def login(password: str) -> None:
        client = ftplib.FTP(timeout=10, source_address=("127.0.0.7", 0))
        try:
            client.connect(*server.address)
            client.login("porch", password)
            client.quit()
        finally:
            client.close()

    try:
        for _ in range(2):
            with pytest.raises(ftplib.error_perm):
                login("wrong")
        with pytest.raises(ftplib.error_perm, match="Too many failed logins"):
            login("porch-secret-1")
        printed: list[str] = []
        args = build_parser().parse_args(["camera", "unban", "127.0.0.7"])
        assert cameras.run(settings, args, say=printed.append) == 0
        assert reached == ["127.0.0.7"] and "127.0.0.7" in printed[0]
        login("porch-secret-1")  # at once
        # Not banned (any more): said so, and the command fails.
        with pytest.raises(cameras.CameraCommandError, match="not banned"):
            cameras.run(settings, args, say=printed.append)
        bad = build_parser().parse_args(["camera", "unban", "camera.local"])
        with pytest.raises(cameras.CameraCommandError, match="not an IP address"):
            cameras.run(settings, bad, say=printed.append)
    finally:
        server.stop()


def test_camera_unban_without_a_running_homesec_says_there_is_no_ban(tmp_path):
    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path)})
    args = build_parser().parse_args(["camera", "unban", "192.0.2.7"])
    with pytest.raises(cameras.CameraCommandError, match="homesec is not running"):
        cameras.run(settings, args, say=lambda _: None)
