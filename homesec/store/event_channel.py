"""The ``security_events`` channel: the one publisher of every message live clients receive.

Every message is one of :mod:`homesec.contract.messages`' types, encoded by its
:func:`~homesec.contract.messages.encode_message` (JSON text). Publishing is fire-and-forget, as
pub/sub is: the rows in PostgreSQL are the record, a message only tells whoever listens now.

An event is published at most once per delivery of its batch (:func:`publish_event_once`):
``published:{event_id}:{started_at}`` is set NX and the message published in one Lua script, so
the marker exists exactly when the message went out, with no window where one happened without the
other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from homesec.contract import keys
from homesec.contract.messages import (
    CameraProblemData,
    CameraProblemMessage,
    ChannelMessage,
    SecurityEventData,
    SecurityEventMessage,
    encode_message,
)
from homesec.store.events import StoredEvent

CHANNEL = keys.SECURITY_EVENTS

# Long past any redelivery of the same batch (an entry pending that long would be published
# again, which only costs one duplicate live message), short enough not to pile up keys.
PUBLISHED_MARKER_TTL_SECONDS = 86_400

_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
"""


async def publish(redis: aioredis.Redis, message: ChannelMessage) -> None:
    await redis.publish(CHANNEL, encode_message(message))


async def publish_many(redis: aioredis.Redis, messages: Sequence[ChannelMessage]) -> None:
    """Publish each, in order, in one round trip."""
    if not messages:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for message in messages:
            pipe.publish(CHANNEL, encode_message(message))
        await pipe.execute()


async def publish_camera_problems(
    redis: aioredis.Redis, changes: Sequence[CameraProblemData]
) -> None:
    """Tell live clients the camera's problems that opened or cleared (best effort: the rows in
    ``camera_problems`` are the record, and a page loaded later shows them)."""
    await publish_many(redis, [CameraProblemMessage(data=change) for change in changes])


def event_message(event: StoredEvent) -> SecurityEventMessage:
    """The contract's ``security_events`` message for ``event``."""
    return SecurityEventMessage(
        data=SecurityEventData(
            id=event.id,
            event_id=event.id,
            batch_id=event.batch_id,
            camera_id=event.camera_id,
            risk_score=event.risk_score,
            risk_level=event.risk_level,
            summary=event.summary,
            started_at=event.started_at.isoformat(),
            is_fast_path=event.is_fast_path,
            supersedes_event_id=event.supersedes_event_id,
            incident_id=event.incident_id,
        )
    )


async def publish_event_once(redis: aioredis.Redis, event: StoredEvent) -> bool:
    """Publish ``event`` unless someone already did; True if this call did."""
    published = await redis.eval(
        _PUBLISH_ONCE,
        1,
        keys.event_published(event.id, event.started_at.timestamp()),
        PUBLISHED_MARKER_TTL_SECONDS,
        CHANNEL,
        encode_message(event_message(event)),
    )
    return bool(published)


async def listen(redis: aioredis.Redis, channel: str = CHANNEL) -> AsyncIterator[str]:
    """Subscribe to ``channel`` and yield each message's text as it comes; the subscription
    ends with the iteration (and a Redis error ends both: the caller subscribes again)."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(channel)
        async for message in pubsub.listen():
            if message["type"] == "message":
                data = message["data"]
                yield data if isinstance(data, str) else data.decode()
    finally:
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()
