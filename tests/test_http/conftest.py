"""Fixtures for the HTTP front door: an app on the session's real PostgreSQL and Redis.

The app runs in Litestar's AsyncTestClient, which drives it on an event loop of its own (in a
thread), so the app's connections never mix with the test's own ``db_sessions`` and
``redis_client``, which seed and inspect the same database and Redis from the test's loop.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.http.app import create_app
from homesec.models import Camera, Detection, Event
from homesec.settings import Settings

T0 = dt.datetime(2025, 12, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    (data_dir / "thumbnails").mkdir(parents=True)
    (tmp_path / "cameras").mkdir()
    # Litestar's test client sends Host: testserver.local, which names no machine.
    return Settings(
        data_dir=data_dir,
        foscam_base_path=tmp_path / "cameras",
        allowed_hosts=("testserver.local",),
    )


@pytest.fixture
def events_channel() -> str:
    """A channel of this test's own: pub/sub is server-wide, and other test sessions (and the
    pipeline's tests) may publish on ``security_events`` meanwhile."""
    return f"security_events:test:{secrets.token_hex(4)}"


@pytest.fixture
def make_app(
    settings: Settings,
    migrated_database_url: str,
    redis_url: str,
    redis_client,
    db_sessions,
    events_channel: str,
) -> Callable[..., Litestar]:
    """``make_app(settings=..., actors=..., ...)``: an app on the emptied database and Redis."""

    def make(**options: Any) -> Litestar:
        chosen = options.pop("settings", settings)
        options.setdefault("events_channel", events_channel)
        return create_app(
            chosen, database_url=migrated_database_url, redis_url=redis_url, **options
        )

    return make


@pytest.fixture
async def client(make_app) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(make_app()) as test_client:
        yield test_client


async def add_camera(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, camera_id: str
) -> Path:
    folder = settings.foscam_base_path / camera_id
    folder.mkdir(parents=True, exist_ok=True)
    async with sessions.begin() as session:
        session.add(
            Camera(id=camera_id, name=camera_id.replace("_", " ").title(), folder_path=str(folder))
        )
    return folder


async def add_detection(sessions: async_sessionmaker[AsyncSession], **fields: Any) -> int:
    fields.setdefault("file_path", "/nowhere/image.jpg")
    fields.setdefault("object_type", "person")
    fields.setdefault("confidence", 0.9)
    fields.setdefault("detected_at", T0)
    async with sessions.begin() as session:
        row = Detection(**fields)
        session.add(row)
        await session.flush()
        return row.id


async def add_event(sessions: async_sessionmaker[AsyncSession], **fields: Any) -> int:
    fields.setdefault("batch_id", f"batch-{fields.get('started_at', T0).timestamp()}-{id(fields)}")
    fields.setdefault("started_at", T0)
    async with sessions.begin() as session:
        row = Event(**fields)
        session.add(row)
        await session.flush()
        return row.id


def write_jpeg(path: Path, size: tuple[int, int] = (64, 48), colour=(40, 40, 40)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="JPEG", quality=95)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long schemathesis walk runs only when asked for (``-m long_fuzz``)."""
    if "long_fuzz" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="the long walk runs alone: pytest -m long_fuzz")
    for item in items:
        if item.get_closest_marker("long_fuzz") is not None:
            item.add_marker(skip)
