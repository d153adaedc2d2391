"""``/api/ftp/bans``: the FTP server's bans, listed and lifted through the actor directory.

The directory here is the one seam the front door has to the pipeline: instead of Ray's
FtpServerActor it hands the calls to a real FTP server running in this process, which real
ftplib clients get banned from."""

from __future__ import annotations

import contextlib
import ftplib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from homesec.contract.errors import PipelineNotRunning
from homesec.contract.reports import FtpBan, SupervisorReport
from homesec.files.ftp_server import AccountTable, FtpServer, FtpServerConfig
from homesec.policy.camera_accounts import FtpAccount, hash_password
from homesec.policy.ftp_policy import BanPolicy
from homesec.store import camera_accounts
from homesec.store.database import create_engine, session_factory

PASSWORD = "porch-secret-1"
ADDRESS = "127.0.0.6"


class FtpDirectory:
    """An ActorDirectory whose FTP server is ``server`` (None: not running); told that the
    accounts changed, it reads them from the database at ``database_url`` as the FTP server
    actor does (on the app's own event loop, so with an engine of its own)."""

    def __init__(self, server: FtpServer | None, database_url: str | None = None) -> None:
        self.server = server
        self.database_url = database_url
        self.told = 0

    async def ftp_accounts_changed(self) -> None:
        self.told += 1
        if self.server is None or self.database_url is None:
            return
        engine = create_engine(self.database_url)
        try:
            accounts = await camera_accounts.ftp_accounts(session_factory(engine))
        finally:
            await engine.dispose()
        self.server.state.accounts.replace(accounts)

    async def supervisor_report(self) -> SupervisorReport | None:
        return None

    async def ftp_bans(self) -> list[FtpBan]:
        if self.server is None:
            raise PipelineNotRunning("the FTP server is not running")
        return self.server.state.active_bans()

    async def ftp_unban(self, address: str) -> bool:
        if self.server is None:
            raise PipelineNotRunning("the FTP server is not running")
        return self.server.state.unban(address)


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[FtpServer]:
    folder = tmp_path / "cameras" / "porch"
    folder.mkdir(parents=True)
    account = FtpAccount(
        username="porch",
        camera_id="porch",
        folder_path=str(folder),
        password_hash=hash_password(PASSWORD),
    )
    accounts = AccountTable([account])
    config = FtpServerConfig(
        host="127.0.0.1",
        port=0,
        ban=BanPolicy(attempts=2, window_seconds=60, ban_seconds=900),
        auth_failed_delay=0.05,
    )
    server = FtpServer(config, accounts, lambda camera, path: None)
    server.start()
    yield server
    server.stop()


def _login(server: FtpServer, password: str) -> ftplib.FTP:
    client = ftplib.FTP(timeout=10, source_address=(ADDRESS, 0))
    try:
        client.connect(*server.address)
        client.login("porch", password)
    except ftplib.error_perm:
        client.close()
        raise
    return client


def _banned(server: FtpServer) -> None:
    for _ in range(2):
        with contextlib.suppress(ftplib.error_perm):
            _login(server, "wrong").quit()


async def test_bans_are_listed_and_lifted(make_app, ftp_server) -> None:
    async with AsyncTestClient(make_app(actors=FtpDirectory(ftp_server))) as client:
        assert (await client.get("/api/ftp/bans")).json() == {"items": [], "count": 0}
        _banned(ftp_server)
        with pytest.raises(ftplib.error_perm, match=r"^530 Too many failed logins"):
            _login(ftp_server, PASSWORD)  # banned: even the right password is refused

        listed = (await client.get("/api/ftp/bans")).json()
        assert listed["count"] == 1
        [ban] = listed["items"]
        assert ban["address"] == ADDRESS and ban["accounts"] == ["porch"]
        assert ban["until"] > ban["since"] and ban["seconds_left"] > 890

        lifted = await client.delete(f"/api/ftp/bans/{ADDRESS}")
        assert lifted.status_code == 204
        _login(ftp_server, PASSWORD).storbinary(
            "STOR a.jpg", io.BytesIO(b"\xff\xd8\xff" + os.urandom(5000))
        )
        assert (await client.get("/api/ftp/bans")).json()["count"] == 0

        again = await client.delete(f"/api/ftp/bans/{ADDRESS}")
        assert again.status_code == 404
        assert again.headers["content-type"].startswith("application/problem+json")
        assert ADDRESS in again.json()["detail"]
        bad = await client.delete("/api/ftp/bans/not-an-address")
        assert bad.status_code == 400 and "not an IP address" in bad.json()["detail"]


async def test_without_the_ftp_server_the_bans_are_503(make_app) -> None:
    for directory in (None, FtpDirectory(None)):  # None: the app's own NoActors
        async with AsyncTestClient(make_app(actors=directory)) as client:
            for response in (
                await client.get("/api/ftp/bans"),
                await client.delete(f"/api/ftp/bans/{ADDRESS}"),
            ):
                assert response.status_code == 503
                assert response.headers["content-type"].startswith("application/problem+json")
                assert "FTP server" in response.json()["detail"]


async def test_the_bans_are_documented_with_their_problems(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    listing = document["paths"]["/api/ftp/bans"]["get"]
    assert "503" in listing["responses"]
    lifting = document["paths"]["/api/ftp/bans/{address}"]["delete"]
    for status in ("400", "404", "503"):
        assert "application/problem+json" in lifting["responses"][status]["content"]


async def test_a_camera_added_through_the_api_logs_in_at_once(
    make_app, ftp_server, migrated_database_url
):
    # Tried as a user: a camera added and uploading in the same second got 530 (the FTP server
    # read the accounts every 2 s). The front door now tells it at once.
    directory = FtpDirectory(ftp_server, migrated_database_url)
    async with AsyncTestClient(make_app(actors=directory)) as client:
        added = await client.post("/api/camera-accounts", json={"name": "Back Gate"})
        assert added.status_code == 201, added.text
        password = added.json()["ftp_account"]["password"]
        assert directory.told == 1

        client_ftp = ftplib.FTP(timeout=10)
        client_ftp.connect(*ftp_server.address)
        client_ftp.login("back_gate", password)  # no 530
        client_ftp.storbinary("STOR a.jpg", io.BytesIO(b"\xff\xd8\xff" + os.urandom(5000)))
        client_ftp.quit()

        reset = await client.post("/api/cameras/back_gate/ftp-account", json={})
        assert reset.status_code == 200 and directory.told == 2
        with pytest.raises(ftplib.error_perm, match=r"^530"):  # the old password is refused
            probe = ftplib.FTP(timeout=10)
            probe.connect(*ftp_server.address)
            probe.login("back_gate", password)
        assert (await client.delete("/api/cameras/back_gate/ftp-account")).status_code == 204
        assert directory.told == 3
