"""local_services: configured servers are checked, missing ones embedded and stopped again."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis as sync_redis
from sqlalchemy import text

from homesec.contract.errors import ServiceUnreachable
from homesec.ops.services import ServiceEndpoints, describe, local_services
from homesec.ops.unprivileged import SYSTEM_STATE_DIR
from homesec.settings import load_settings
from homesec.store.database import create_engine


def processes_mentioning(text: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if process.pid != os.getpid() and text in " ".join(process.info["cmdline"] or ()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One data dir for the module, so the embedded cluster is created once."""
    path = tmp_path_factory.mktemp("services")
    yield path
    cluster = (path / "postgres" / "cluster").resolve()
    # As root, the cluster may live outside tmp_path (see homesec.ops.unprivileged).
    if cluster.is_relative_to(SYSTEM_STATE_DIR):
        shutil.rmtree(cluster, ignore_errors=True)


async def _select_one(url: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text("SELECT 1"))).scalar_one()
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_with_nothing_configured_both_are_embedded_and_stopped_even_on_ctrl_c(data_dir):
    settings = load_settings({"HOMESEC_DATA_DIR": str(data_dir)})
    with pytest.raises(KeyboardInterrupt), local_services(settings) as endpoints:
        assert endpoints.embedded_postgres and endpoints.embedded_redis
        assert asyncio.run(_select_one(endpoints.database_url)) == 1
        with sync_redis.Redis.from_url(endpoints.redis_url) as client:
            assert client.ping()
        assert len(processes_mentioning(str(data_dir))) >= 2
        lines = describe(endpoints)
        raise KeyboardInterrupt

    assert lines[0].startswith("PostgreSQL: embedded at 127.0.0.1:")
    assert lines[1].startswith("Redis: embedded at 127.0.0.1:")
    assert f"(data in {data_dir / 'redis'})" in lines[1]
    assert processes_mentioning(str(data_dir)) == []


@pytest.mark.slow
def test_an_unreachable_redis_stops_the_postgres_already_started(data_dir):
    settings = load_settings(
        {"HOMESEC_DATA_DIR": str(data_dir), "REDIS_URL": "redis://:secret@127.0.0.1:1/0"}
    )
    with pytest.raises(ServiceUnreachable) as raised, local_services(settings):
        pytest.fail("local_services should not yield")
    message = str(raised.value)
    assert "REDIS_URL" in message and "\n" not in message and "secret" not in message
    assert processes_mentioning(str(data_dir)) == []


def test_an_unreachable_database_is_one_line_naming_the_variable(tmp_path):
    settings = load_settings(
        {"HOMESEC_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    )
    with pytest.raises(ServiceUnreachable) as raised, local_services(settings):
        pytest.fail("local_services should not yield")
    message = str(raised.value)
    assert "DATABASE_URL" in message and "\n" not in message
    assert not (tmp_path / "redis").exists(), "nothing embedded once a configured server fails"


def test_configured_servers_are_used_as_they_are(tmp_path, postgres_server_url, redis_server_url):
    settings = load_settings(
        {
            "HOMESEC_DATA_DIR": str(tmp_path),
            "DATABASE_URL": postgres_server_url,
            "REDIS_URL": redis_server_url,
        }
    )
    with local_services(settings) as endpoints:
        assert endpoints.database_url == settings.database_url
        assert endpoints.redis_url == redis_server_url
        assert not endpoints.embedded_postgres and not endpoints.embedded_redis
    assert list(tmp_path.iterdir()) == []


def test_without_need_for_redis_there_is_none(tmp_path, postgres_server_url):
    environ = {"HOMESEC_DATA_DIR": str(tmp_path), "DATABASE_URL": postgres_server_url}
    settings = load_settings(environ)
    with local_services(settings, need_redis=False) as endpoints:
        assert endpoints.redis_url is None and not endpoints.embedded_redis
        assert [line.split(":")[0] for line in describe(endpoints)] == ["PostgreSQL"]


def test_describe_masks_passwords_of_configured_servers():
    endpoints = ServiceEndpoints(
        database_url="postgresql+asyncpg://me:hunter2@db.lan:5432/homesec",
        redis_url="redis://:hunter3@cache.lan:6379/0",
        embedded_postgres=False,
        embedded_redis=False,
    )
    assert describe(endpoints) == [
        "PostgreSQL: postgresql+asyncpg://me:****@db.lan:5432/homesec (from DATABASE_URL)",
        "Redis: redis://:****@cache.lan:6379/0 (from REDIS_URL)",
    ]
