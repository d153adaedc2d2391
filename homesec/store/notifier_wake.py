"""``notifier:wake``: tells the Notifier to run a cycle now (a test message is waiting, a channel
was added or removed on the Alerts page). Fire and forget: without a listener the Notifier's
sweep (every few seconds) does the same a little later.

The Notifier listens on this channel and on ``security_events`` through :func:`listen`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from homesec.contract import keys

CHANNEL = keys.NOTIFIER_WAKE


async def wake(redis: aioredis.Redis, reason: str) -> None:
    await redis.publish(CHANNEL, reason)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


async def listen(redis: aioredis.Redis, *channels: str) -> AsyncIterator[tuple[str, str]]:
    """(channel, text) of each message on ``channels`` and on ``notifier:wake``, until the
    subscription is lost (it raises then) or the caller stops iterating."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(*channels, CHANNEL)
        async for raw in pubsub.listen():
            yield _text(raw["channel"]), _text(raw["data"])
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()
