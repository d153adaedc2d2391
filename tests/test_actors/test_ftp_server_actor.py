"""FtpServerActor's own bookkeeping, the actor object run in this loop against the test
database (the server itself is tested in tests/test_ftp)."""

from __future__ import annotations

import asyncio
import contextlib
import ftplib
from collections.abc import AsyncIterator

from homesec.actors.ftp_server import FtpServerActor
from homesec.ops.ports import free_port
from homesec.settings import load_settings


@contextlib.asynccontextmanager
async def listening_actor(
    tmp_path, database_url: str, redis_url: str, **env: str
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
    actor = FtpServerActor("ftp_server", settings, database_url, redis_url, refresh_seconds=0.05)
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
