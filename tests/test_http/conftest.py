"""Fixtures for the HTTP front door: an app on the session's real PostgreSQL and Redis.

The app runs in Litestar's AsyncTestClient, which drives it on an event loop of its own (in a
thread), so the app's connections never mix with the test's own ``db_sessions`` and
``redis_client``, which seed and inspect the same database and Redis from the test's loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

# The app's fixtures, shared with tests/test_ui.
from tests.support.http_app import events_channel, make_app, settings  # noqa: F401


@pytest.fixture
async def client(make_app) -> AsyncIterator[AsyncTestClient]:  # noqa: F811
    async with AsyncTestClient(make_app()) as test_client:
        yield test_client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long schemathesis walk runs only when asked for (``-m long_fuzz``)."""
    if "long_fuzz" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="the long walk runs alone: pytest -m long_fuzz")
    for item in items:
        if item.get_closest_marker("long_fuzz") is not None:
            item.add_marker(skip)
