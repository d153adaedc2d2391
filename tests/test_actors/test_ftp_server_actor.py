"""FtpServerActor's own bookkeeping, the actor object run in this loop against the test
database (the server itself is tested in tests/test_ftp)."""

from __future__ import annotations

import asyncio
import contextlib
import ftplib
from collections.abc import AsyncIterator

from homesec.actors.ftp_server import FtpServerActor
from homesec.ops.ports import free_port
from homesec.policy.cameras import CameraFolder
from homesec.settings import load_settings
from homesec.store import camera_accounts


@contextlib.asynccontextmanager
async def listening_actor(
    tmp_path, database_url: str, redis_url: str, refresh_seconds: float = 0.05, **env: str
) -> AsyncIterator[tuple[FtpServerActor, int]]:
    """The actor running in this loop on free ports, once its server listens; yields it and
    its port, and stops it afterwards."""
    port, passive = free_port(), free_port()
    settings = load_settings(
        {
            "HOMESEC_DATA_DIR": str(tmp_path / "data"),
            "FOSCAM_BASE_PATH": str(tmp_path / "cameras"),
            "FTP_HOST": "127.0.0.1",
            "FTP_PORT": str(port),
            "FTP_PASSIVE_PORTS": f"{passive}-{passive}",
            **env,
        }
    )
    actor = FtpServerActor(
        "ftp_server", settings, database_url, redis_url, refresh_seconds=refresh_seconds
    )
    task = asyncio.create_task(actor.run())
    try:
        for _ in range(200):
            if actor.health_detail()["listening"] == "true":
                break
            await asyncio.sleep(0.05)
        yield actor, port
    finally:
        await actor.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_servers_totals_are_reported_as_they_are_not_added_up_again(
    tmp_path, migrated_database_url, redis_url, clean_db
):
    async with listening_actor(tmp_path, migrated_database_url, redis_url) as (actor, port):
        assert actor.health_detail()["listening"] == "true"

        def failed_login() -> None:
            client = ftplib.FTP()
            client.connect("127.0.0.1", port, timeout=10)
            with contextlib.suppress(ftplib.error_perm):
                client.login("nobody", "wrong-password")
            client.close()

        await asyncio.to_thread(failed_login)
        await asyncio.sleep(0.3)  # several refreshes: the report must not grow by itself
        reported = {key: actor.counters[key] for key in actor.server.counters()}
        await asyncio.sleep(0.5)  # ten more refreshes, and nothing happened
        assert {key: actor.counters[key] for key in reported} == reported
        assert reported == actor.server.counters()
        assert reported.get("connections", 0) == 1, reported


async def test_a_ban_is_a_health_problem_until_it_is_lifted(
    tmp_path, migrated_database_url, redis_url, clean_db
):
    async with listening_actor(
        tmp_path, migrated_database_url, redis_url, FTP_BAN_ATTEMPTS="2"
    ) as (actor, port):
        assert await actor.bans() == [] and actor.health_problems() == []

        def failed_login() -> None:
            client = ftplib.FTP()
            client.connect("127.0.0.1", port, timeout=10, source_address=("127.0.0.5", 0))
            with contextlib.suppress(ftplib.error_perm):
                client.login("front_door", "wrong-password")
            client.close()

        for _ in range(2):
            await asyncio.to_thread(failed_login)
        [ban] = await actor.bans()
        assert ban.address == "127.0.0.5" and ban.accounts == ["front_door"]
        [problem] = actor.health_problems()
        assert "127.0.0.5" in problem.summary and "front_door" in problem.summary
        assert "homesec camera unban 127.0.0.5" in problem.remedy
        assert "DELETE /api/ftp/bans/127.0.0.5" in problem.remedy
        assert actor.health_detail()["banned_addresses"] == "1"
        assert await actor.unban("127.0.0.5") is True
        assert await actor.bans() == [] and actor.health_problems() == []
        assert await actor.unban("127.0.0.5") is False


async def test_told_the_accounts_changed_it_reads_them_at_once(
    tmp_path, migrated_database_url, redis_url, clean_db, db_sessions
):
    # An hour between its own reads: only being told can let the new camera in.
    async with listening_actor(
        tmp_path, migrated_database_url, redis_url, refresh_seconds=3600
    ) as (actor, port):
        folder = CameraFolder("porch", "Porch", str(tmp_path / "cameras" / "porch"))
        await camera_accounts.create_account(db_sessions, folder, "porch-secret-1")

        def login() -> None:
            client = ftplib.FTP()
            client.connect("127.0.0.1", port, timeout=10)
            try:
                client.login("porch", "porch-secret-1")
            finally:
                client.close()

        with contextlib.suppress(ftplib.error_perm):  # a stale table refuses it
            await asyncio.to_thread(login)
            raise AssertionError("logged in before the table was read again")
        assert await actor.refresh_accounts() == 1
        await asyncio.to_thread(login)
