"""The ``security_events`` relay: one Redis subscription per app, fanned out to every WebSocket.

Each client gets a bounded queue. Fan-out only ever does ``put_nowait``, so a client whose queue
is full (it is not reading, or its network is slower than the events) is dropped at once; it can
never hold up the subscription or the other clients. Messages are forwarded as they were
published; their ``type`` is read only to apply a client's ``?types=`` filter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from homesec.contract import keys
from homesec.contract.messages import message_type
from homesec.store import event_channel

log = logging.getLogger("homesec.http.relay")

DEFAULT_QUEUE_SIZE = 256
_RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)
_STOP_ATTEMPTS = 50


class Subscriber:
    """One client's view of the channel: its queue, its filter, and whether it was dropped."""

    def __init__(self, types: frozenset[str] | None, queue_size: int) -> None:
        self.types = types
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.dropped = asyncio.Event()

    def wants(self, kind: str | None) -> bool:
        return self.types is None or kind in self.types

    def offer(self, text: str) -> bool:
        """Queue ``text``; False (and marked dropped) when the client has fallen behind."""
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        return True


class EventRelay:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        channel: str = keys.SECURITY_EVENTS,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self._redis = redis
        self._channel = channel
        self._queue_size = queue_size
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self.dropped_total = 0
        self.relayed_total = 0

    @property
    def client_count(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="security-events-relay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        # redis-py (8.x) swallows a cancellation that arrives while the pub/sub connection is
        # being made and goes on to listen; cancelling again then ends it. Bounded, so shutdown
        # never hangs on it.
        for _ in range(_STOP_ATTEMPTS):
            task.cancel()
            done, _pending = await asyncio.wait({task}, timeout=0.1)
            if done:
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                    task.result()
                return
        log.warning("the %s relay did not stop when cancelled", self._channel)

    def subscribe(self, types: frozenset[str] | None = None) -> Subscriber:
        subscriber = Subscriber(types, self._queue_size)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def fan_out(self, text: str) -> None:
        kind = message_type(text)
        for subscriber in list(self._subscribers):
            if not subscriber.wants(kind):
                continue
            if not subscriber.offer(text):
                self._subscribers.discard(subscriber)
                self.dropped_total += 1
                log.warning("dropped a WebSocket client that fell behind")
        self.relayed_total += 1

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                listening = event_channel.listen(self._redis, self._channel)
                async with contextlib.aclosing(listening) as messages:
                    async for text in messages:
                        failures = 0
                        self.fan_out(text)
            except (RedisError, OSError) as exc:
                delay = _RECONNECT_DELAYS[min(failures, len(_RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning(
                    "lost %s subscription (%s); retrying in %.1fs", self._channel, exc, delay
                )
                await asyncio.sleep(delay)
