"""The HTTP front door under test: an app on the session's real PostgreSQL and Redis, and what
its tests do with it (page through a listing, wait for the live relay to subscribe).

The fixtures here are shared by two packages (tests/test_http and tests/test_ui): each one's
conftest.py imports them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from homesec.http.app import create_app
from homesec.settings import Settings
from tests.support.settings import make_settings
from tests.support.waiting import eventually


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    (data_dir / "thumbnails").mkdir(parents=True)
    (tmp_path / "cameras").mkdir()
    # Litestar's test client sends Host: testserver.local, which names no machine.
    return make_settings(
        data_dir, foscam_base_path=tmp_path / "cameras", allowed_hosts=("testserver.local",)
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


async def relay_subscribed(redis_client, channel: str, at_least: int = 1) -> None:
    """Wait until the app's relay has subscribed (it does so in the background at start)."""

    async def subscribers() -> int:
        [(_, count)] = await redis_client.pubsub_numsub(channel)
        return count if count >= at_least else 0

    await eventually(subscribers, 5, f"{at_least} subscriber(s) on {channel}", interval=0.02)


async def walk(client, path: str, **params) -> list[int]:
    """The ids of every item of a paged listing, following its cursors; each page at most
    ``params["limit"]`` long."""
    seen: list[int] = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        page = (await client.get(path, params=query)).json()
        assert len(page["items"]) <= params["limit"]
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
