"""The pipeline's queues as the API shows them: stream depth, unacknowledged entries, dead letters
(counted by :func:`homesec.store.streams.queue_counts`; a queue not created yet reads as 0)."""

from __future__ import annotations

import redis.asyncio as aioredis

from homesec.http.schemas.system import QueueState
from homesec.store.streams import queue_counts


async def queue_states(redis: aioredis.Redis) -> dict[str, QueueState]:
    return {
        queue: QueueState(depth=counts.length, pending=counts.pending, dlq=counts.dead_letters)
        for queue, counts in (await queue_counts(redis)).items()
    }
