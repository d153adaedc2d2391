"""The alert tests' fixtures: a mosquitto broker of their own, a subscribed MQTT client, an HTTP
receiver, and rows on an emptied database (what they are built on: tests/support/alerts.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from homesec.http.app import create_app
from homesec.models import AlertCursor
from tests.support.alerts import Broker, Receiver, Rows, Subscriber, alert_settings


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    server = Broker(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mqtt_broker(broker: Broker) -> int:
    """The port of this test's mosquitto."""
    return broker.port


@pytest.fixture
def subscriber(mqtt_broker: int) -> Iterator[Subscriber]:
    client = Subscriber(mqtt_broker)
    yield client
    client.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
async def rows(db_sessions, tmp_path: Path) -> Rows:
    """Rows on an emptied database whose alert cursor is at 0, as the migration leaves a fresh
    install (the emptying removed its row)."""
    async with db_sessions.begin() as session:
        session.add(AlertCursor(id=1, last_event_id=0))
    return Rows(db_sessions, tmp_path / "thumbnails")


@pytest.fixture
def make_client(migrated_database_url, redis_url, db_sessions, tmp_path):
    def make(**env: str) -> AsyncTestClient:
        settings = alert_settings(tmp_path, **env)
        app = create_app(settings, database_url=migrated_database_url, redis_url=redis_url,
                         events_channel="security_events:test:alerts-api")  # fmt: skip
        # A loopback Host: the app refuses names that are not this machine's (DNS rebinding).
        return AsyncTestClient(app, base_url="http://127.0.0.1")

    return make
