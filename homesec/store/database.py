"""PostgreSQL access: the async engine, the session factory and a reachability check."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from homesec.contract.errors import ServiceUnreachable
from homesec.settings import mask_url


def create_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> AsyncEngine:
    """An asyncpg engine. ``pool_pre_ping`` because the embedded server may restart under us."""
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, echo=echo
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: results are converted to msgspec structs after the commit.
    return async_sessionmaker(engine, expire_on_commit=False)


def describe(url: str) -> str:
    """``host:port/database`` for messages, never with the password."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


async def ping(engine: AsyncEngine, timeout: float) -> None:
    """One ``SELECT 1`` within ``timeout`` seconds; raises what stopped it (the driver's error,
    ``OSError`` or ``TimeoutError``)."""
    async with asyncio.timeout(timeout), engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def check_database(url: str, *, timeout: float = 5.0) -> None:
    """Raise :class:`ServiceUnreachable` with one clear line when PostgreSQL does not answer."""
    engine = create_async_engine(url, pool_size=1, connect_args={"timeout": timeout})
    try:
        async with asyncio.timeout(timeout + 1):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver or network error means the same to the user
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnreachable(
            f"PostgreSQL at {describe(url)} is unreachable ({reason}); "
            f"check DATABASE_URL={mask_url(url)} or unset it to use the embedded server"
        ) from None
    finally:
        await engine.dispose()


async def _run_outside_transaction(server_url: str, statement: str) -> None:
    """CREATE/DROP DATABASE cannot run inside a transaction block."""
    engine = create_async_engine(server_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "homesec_scratch") -> Iterator[str]:
    """A new, empty database on the server of ``server_url``, dropped afterwards (tests and
    benchmarks). Yields its URL. Sync: call it outside a running event loop."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_run_outside_transaction(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(
            _run_outside_transaction(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
