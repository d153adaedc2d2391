"""Schema migrations from code: upgrade, downgrade, where a database stands, and drift.

The Alembic configuration is built here rather than read from ``alembic.ini``, so migrations are
found whatever the working directory: ``homesec/migrations`` is a link to the top-level
``migrations/`` in the source tree, and a wheel carries the files themselves.

Every function is synchronous and runs its own event loop (``migrations/env.py`` uses
``asyncio.run``). Call them from plain code or from a worker thread —
``await asyncio.to_thread(upgrade, url)`` — never directly from a coroutine: on a thread whose
event loop is running they raise :class:`RuntimeError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import homesec
from homesec.settings import normalize_database_url

MIGRATIONS_DIR = Path(homesec.__file__).resolve().parent / "migrations"

_T = TypeVar("_T")


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (the newest by default)."""
    _refuse_running_loop("upgrade")
    command.upgrade(_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Migrate the database down to ``revision``; ``base`` drops every homesec table."""
    _refuse_running_loop("downgrade")
    command.downgrade(_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    _refuse_running_loop("current")
    return _on_connection(
        database_url,
        lambda connection: MigrationContext.configure(connection).get_current_revision(),
    )


def head_revision() -> str:
    """The newest revision the migrations define."""
    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def autogenerate_diff(database_url: str) -> list[Any]:
    """What ``alembic revision --autogenerate`` would change; empty when models and schema agree.

    Runs the real autogenerate through ``env.py`` (same comparison options) and writes no file.
    The database must be at the head revision, as for autogenerate itself. Each item is one of
    Alembic's diff tuples, such as ``("add_column", None, "events", Column(...))``.
    """
    _refuse_running_loop("autogenerate_diff")
    diffs: list[Any] = []

    def capture_and_discard(_context: Any, _revision: Any, directives: list[Any]) -> None:
        for script in directives:
            for upgrade_ops in script.upgrade_ops_list:
                diffs.extend(upgrade_ops.as_diffs())
        directives.clear()  # nothing left to render: no revision file is written

    command.revision(
        _config(database_url), autogenerate=True, process_revision_directives=capture_and_discard
    )
    return diffs


def _config(database_url: str | None) -> Config:
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise RuntimeError(
            f"homesec's migrations are not at {MIGRATIONS_DIR}: this installation is incomplete; "
            "reinstall homesec (scripts/bootstrap, or pip install from a checkout or a wheel)"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if database_url is not None:
        # Read by env.py; an attribute rather than an option, so a password's "%" needs no escape.
        config.attributes["database_url"] = normalize_database_url(database_url)
    return config


def _on_connection(database_url: str, work: Callable[[Connection], _T]) -> _T:
    async def run() -> _T:
        engine = create_async_engine(normalize_database_url(database_url), poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _refuse_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"homesec.ops.migrate.{name}() runs its own event loop and cannot be called from a "
        f"coroutine; use: await asyncio.to_thread({name}, ...)"
    )
