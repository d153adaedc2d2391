"""Migrations: a full round trip on a database of their own, the command line, and no drift.

The round trip gets a fresh database rather than the session's ``database_url``, which the
``migrated_database_url`` fixture migrates for every other test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from homesec.ops.migrate import (
    MIGRATIONS_DIR,
    autogenerate_diff,
    current,
    downgrade,
    head_revision,
    upgrade,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
HOMESEC_TABLES = {
    "cameras", "detections", "events", "gpu_stats", "logs", "api_keys", "uploads",
    "camera_accounts", "class_baselines", "activity_baselines", "event_feedback",
    "alert_rules", "alerts", "alert_cursor", "notify_channels", "house_mode_changes",
    "camera_tamper", "camera_problems", "camera_zones", "timeline_looks", "incidents",
}  # fmt: skip


def _run_sql(url: str, *statements: str, autocommit: bool = False) -> list[str]:
    """Run statements on ``url`` with a throwaway engine; the first column of the last result."""

    async def run() -> list[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                if autocommit:
                    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                result = None
                for statement in statements:
                    result = await connection.execute(text(statement))
                rows = list(result.scalars()) if result is not None and result.returns_rows else []
                await connection.commit()
                return rows
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    return set(_run_sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))


@pytest.fixture
def fresh_database_url(postgres_server_url: str, database_url: str) -> Iterator[str]:
    """An empty database beside this session's own, dropped after the test."""
    name = f"{make_url(database_url).database}_mig"
    _run_sql(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)
    _run_sql(postgres_server_url, f'CREATE DATABASE "{name}"', autocommit=True)
    try:
        yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_sql(
            postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True
        )


def test_the_package_reaches_the_migrations_through_its_link() -> None:
    assert MIGRATIONS_DIR == REPO_ROOT / "homesec" / "migrations"
    assert MIGRATIONS_DIR.resolve() == REPO_ROOT / "migrations"
    assert head_revision() == "0017"


def test_an_installed_wheel_migrates_a_database(fresh_database_url: str, tmp_path: Path) -> None:
    """Not an editable install: the wheel carries the migrations (the link's files)."""

    def pip(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "pip", "-q", *args], check=True, capture_output=True, timeout=300
        )

    pip("wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(REPO_ROOT))
    [wheel] = (tmp_path / "dist").glob("homesec-*.whl")
    pip("install", "--no-deps", "--target", str(tmp_path / "site"), str(wheel))
    script = (
        "import sys, homesec; from homesec.ops import migrate; "
        "migrate.upgrade(sys.argv[1]); print(homesec.__file__); print(migrate.current(sys.argv[1]))"
    )
    # Elsewhere than the checkout, with the installed copy first on the path; the dependencies
    # come from this environment.
    result = subprocess.run(
        [sys.executable, "-c", script, fresh_database_url],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    location, revision = result.stdout.split()
    assert Path(location).is_relative_to(tmp_path / "site")
    assert revision == head_revision()
    assert _tables(fresh_database_url) >= HOMESEC_TABLES


async def test_round_trip_up_down_up_from_a_worker_thread(fresh_database_url: str) -> None:
    url = fresh_database_url
    # The way async code is told to call these: in a worker thread, never on the loop's own.
    assert await asyncio.to_thread(current, url) is None

    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(current, url) == head_revision()
    assert await asyncio.to_thread(_tables, url) == HOMESEC_TABLES | {"alembic_version"}

    await asyncio.to_thread(downgrade, url)
    assert await asyncio.to_thread(current, url) is None
    assert await asyncio.to_thread(_tables, url) == {"alembic_version"}

    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(current, url) == head_revision()
    assert await asyncio.to_thread(_tables, url) == HOMESEC_TABLES | {"alembic_version"}


async def test_migrate_refuses_to_run_on_a_running_event_loop(fresh_database_url: str) -> None:
    with pytest.raises(RuntimeError, match=r"asyncio\.to_thread\(upgrade"):
        upgrade(fresh_database_url)
    assert await asyncio.to_thread(_tables, fresh_database_url) == set()


def test_models_and_migrations_do_not_drift(migrated_database_url: str) -> None:
    assert autogenerate_diff(migrated_database_url) == []


def test_autogenerate_diff_reports_drift(fresh_database_url: str) -> None:
    """The empty diff above means something: a changed default, type, index or CHECK shows up."""
    upgrade(fresh_database_url)
    _run_sql(
        fresh_database_url,
        "ALTER TABLE cameras ALTER COLUMN status SET DEFAULT 'offline'",
        "ALTER TABLE gpu_stats ALTER COLUMN gpu_name TYPE varchar(100)",
        "DROP INDEX idx_logs_source",
        "ALTER TABLE logs DROP CONSTRAINT ck_logs_source_valid",
    )
    kinds = set()
    for diff in autogenerate_diff(fresh_database_url):
        # Column changes come grouped in a list; table-level ones are single tuples.
        for change in diff if isinstance(diff, list) else [diff]:
            kinds.add((change[0], change[2] if change[0].startswith("modify") else change[1].name))
    assert kinds == {
        ("modify_default", "cameras"),
        ("modify_type", "gpu_stats"),
        ("add_index", "idx_logs_source"),
        ("add_constraint", "ck_logs_source_valid"),
    }


def _alembic(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "alembic.ini"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_alembic_command_line_from_another_directory(
    fresh_database_url: str, tmp_path: Path
) -> None:
    # A plain postgresql:// URL, as users write it; env.py switches it to asyncpg.
    plain_url = fresh_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    result = _alembic("-x", f"url={plain_url}", "upgrade", "head", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert current(fresh_database_url) == head_revision()

    result = _alembic("-x", f"url={plain_url}", "current", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{head_revision()} (head)" in result.stdout


def test_alembic_command_line_without_a_url_says_how_to_give_one(tmp_path: Path) -> None:
    result = _alembic("current", cwd=tmp_path)
    assert result.returncode != 0
    assert "no database URL" in result.stderr
