"""The alert tests' fixtures: a mosquitto broker of their own, a subscribed MQTT client, an HTTP
receiver, and rows on an emptied database (what they are built on: tests/support/alerts.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from homesec.models import AlertCursor
from tests.support.alerts import Broker, Receiver, Rows, Subscriber


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
