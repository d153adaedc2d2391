"""WebSockets: ``security_events`` relayed to clients, type filters, ping, slow clients dropped,
and the periodic system status."""

from __future__ import annotations

import asyncio
import inspect
import json

import msgspec
from litestar.testing import AsyncTestClient

from homesec.contract import keys
from homesec.contract.messages import SecurityEventData, SecurityEventMessage
from homesec.http.app import create_app
from homesec.http.relay import EventRelay
from homesec.store.redis_client import create_redis
from tests.support.http_app import relay_subscribed

EVENT = SecurityEventMessage(
    data=SecurityEventData(
        id=1,
        event_id=1,
        batch_id="abc123",
        camera_id="front_door",
        risk_score=75,
        risk_level="high",
        summary="Person detected at front door",
        started_at="2025-12-23T12:00:00",
    )
)


async def test_a_published_event_reaches_the_client_as_published(
    client, redis_client, events_channel
) -> None:
    published = msgspec.json.encode(EVENT).decode()
    with await client.websocket_connect("/ws/events") as socket:
        await relay_subscribed(redis_client, events_channel)
        await redis_client.publish(events_channel, published)
        received = socket.receive_text(timeout=5)
    assert received == published
    assert json.loads(received) == {
        "type": "event",
        "data": {
            "id": 1,
            "event_id": 1,
            "batch_id": "abc123",
            "camera_id": "front_door",
            "risk_score": 75,
            "risk_level": "high",
            "summary": "Person detected at front door",
            "started_at": "2025-12-23T12:00:00",
            "is_fast_path": False,
            # homesec's addition: the preliminary (fast-path) event this verdict supersedes.
            "supersedes_event_id": None,
            "incident_id": None,
        },
    }


async def test_every_type_is_forwarded_and_types_filter(
    client, redis_client, events_channel
) -> None:
    messages = [
        {"type": "event", "data": {"id": 1}},
        {"type": "detection.new", "data": {"id": 7}},
        {"type": "camera_status", "data": {"camera_id": "garage", "status": "offline"}},
    ]
    with (
        await client.websocket_connect("/ws/events") as everything,
        await client.websocket_connect("/ws/events?types=camera_status,event") as some,
    ):
        await relay_subscribed(redis_client, events_channel)
        for message in messages:
            await redis_client.publish(events_channel, json.dumps(message))
        assert [everything.receive_json(timeout=5) for _ in messages] == messages
        assert [some.receive_json(timeout=5) for _ in range(2)] == [messages[0], messages[2]]
        some.send_json({"type": "ping"})
        assert some.receive_json(timeout=5) == {"type": "pong"}


async def test_system_socket_reports_status_periodically(make_app, redis_client) -> None:
    async with AsyncTestClient(make_app(system_status_interval=0.05)) as client:
        with await client.websocket_connect("/ws/system") as socket:
            first = socket.receive_json(timeout=5)
            second = socket.receive_json(timeout=5)
            socket.send_json({"type": "ping"})
            replies = [socket.receive_json(timeout=5) for _ in range(3)]
    assert first["type"] == second["type"] == "system_status"
    assert first["data"]["status"] == "degraded"  # no pipeline in tests
    assert first["data"]["services"] == {
        "database": "healthy",
        "redis": "healthy",
        "pipeline": "degraded",
    }
    assert first["data"]["queues"]["detection_queue"] == {"depth": 0, "pending": 0, "dlq": 0}
    # The badge's reason, with what to do.
    assert first["data"]["problems"] == [
        "the pipeline is not running or its supervisor is unreachable (start it with `homesec up`)"
    ]
    assert {"type": "pong"} in replies


async def test_a_client_that_falls_behind_is_dropped_alone(
    redis_url, redis_client, events_channel
) -> None:
    """The fan-out itself, on a real subscription: the slow queue fills, the fast one never."""
    redis = create_redis(redis_url)
    relay = EventRelay(redis, channel=events_channel, queue_size=4)
    relay.start()
    fast = relay.subscribe()
    slow = relay.subscribe()
    received: list[str] = []
    arrived = asyncio.Event()

    async def read_fast() -> None:
        while True:
            received.append(await fast.queue.get())
            arrived.set()

    async def until_received(count: int) -> None:
        async with asyncio.timeout(5):
            while len(received) < count:
                arrived.clear()
                await arrived.wait()

    reader = asyncio.create_task(read_fast())
    try:
        await relay_subscribed(redis_client, events_channel)
        for index in range(10):
            await redis_client.publish(events_channel, json.dumps({"n": index}))
        await until_received(10)
        assert slow.dropped.is_set()
        assert not fast.dropped.is_set()
        assert relay.client_count == 1 and relay.dropped_total == 1
        assert slow.queue.qsize() == 4  # what it had before it was dropped
        await redis_client.publish(events_channel, json.dumps({"n": 10}))
        await until_received(11)
        assert [json.loads(text)["n"] for text in received] == list(range(11))
    finally:
        reader.cancel()
        await relay.stop()
        await redis.aclose()


def test_the_relay_listens_on_the_contract_channel_by_default() -> None:
    default = inspect.signature(create_app).parameters["events_channel"].default
    assert default == keys.SECURITY_EVENTS == "security_events"
