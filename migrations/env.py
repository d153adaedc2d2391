"""Alembic environment: runs migrations over asyncpg, on the URL the caller gives.

Where the URL comes from, first found wins: ``config.attributes["database_url"]`` (set by
``homesec.ops.migrate``), ``-x url=...`` on the alembic command line, ``DATABASE_URL``. None is
ever written in a file. Online runs use their own event loop (``asyncio.run``), so they must be
started from a thread that is not already running one.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from homesec.models import Base
from homesec.settings import normalize_database_url

config = context.config

# Only the alembic command line has an ini file; programmatic callers keep their own logging.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# compare_server_default: the contract's defaults (status 'online', reviewed false ...) live in
# the database, so a drift there is as real as a drift in a column's type. The opt-in
# checkconstraint_byname plugin makes autogenerate see added and removed CHECKs too; it is named
# as Alembic 1.18 called it, which later releases translate and older ones ignore.
COMPARE_OPTIONS = {
    "compare_type": True,
    "compare_server_default": True,
    "autogenerate_plugins": [
        "alembic.autogenerate.*",
        "alembic.autogenerate.checkconstraint_byname",
    ],
}


def database_url() -> str:
    url = (
        config.attributes.get("database_url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise CommandError(
            "no database URL: pass -x url=postgresql://user@host:5432/db or set DATABASE_URL"
        )
    return normalize_database_url(url)


def run_migrations_offline() -> None:
    """``--sql``: print the SQL instead of running it."""
    context.configure(
        url=database_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **COMPARE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on_connection(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, **COMPARE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async_migrations() -> None:
    # NullPool: a migration is one short connection; nothing should outlive it.
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on_connection)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async_migrations())
