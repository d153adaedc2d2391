"""Apprise blocks; homesec bounds it: a push service that takes the connection and never answers
fails the send after NOTIFY_TIMEOUT_SECONDS, and the event loop keeps running meanwhile."""

from __future__ import annotations

import asyncio
import socket

import pytest

from homesec.contract.alerts import AlertMessage
from homesec.engines.notify import ChannelError
from homesec.engines.notify.apprise_channel import AppriseChannel
from tests.support.alerts import port_outside_ray

MESSAGE = AlertMessage(
    alert_id=1,
    kind="alert",
    title="Person at Front Door (high 72)",
    body="A person walks up to the door.",
    camera_id="front_door",
    camera_name="Front Door",
    local_time="2026-12-05T01:00:00+01:00",
    risk_level="high",
    risk_score=72,
    summary="A person walks up to the door.",
    event_id=1,
    link="http://127.0.0.1:8000/events/1",
    idempotency_key="event:1:apprise:test",
)


@pytest.fixture
def silent_server():
    """A TCP port that takes connections (the kernel's backlog) and never says a word."""
    port = port_outside_ray()
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    yield port
    listener.close()


async def test_a_push_service_that_never_answers_fails_within_the_timeout(silent_server):
    channel = AppriseChannel("apprise:test", f"json://127.0.0.1:{silent_server}/push", 1.0)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(ChannelError, match=r"no answer within 1 s"):
            await channel.send(MESSAGE)
    finally:
        ticker.cancel()
    # The loop ran while Apprise blocked its worker thread (about 20 ticks in the second).
    assert ticks >= 5
