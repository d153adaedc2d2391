"""The pipeline's queues as Redis holds them: stream depth, unacknowledged entries, dead letters.

Streams and consumer groups are created by the pipeline when it first runs, so either may be
missing here: that reads as 0, not as an error.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from homesec.http.schemas.system import QueueState
from homesec.ops import keys

GROUP_OF_QUEUE = {
    keys.DETECTION_QUEUE: keys.DETECTOR_GROUP,
    keys.ANALYSIS_QUEUE: keys.ANALYST_GROUP,
}


async def _pending(redis: aioredis.Redis, queue: str) -> int:
    try:
        summary = await redis.xpending(queue, GROUP_OF_QUEUE[queue])
    except ResponseError:  # NOGROUP: no stream or no group yet
        return 0
    return int(summary["pending"])


async def queue_states(redis: aioredis.Redis) -> dict[str, QueueState]:
    async with redis.pipeline(transaction=False) as pipe:
        for queue in keys.QUEUES:
            pipe.xlen(queue)
            pipe.llen(keys.dlq(queue))
        counts = await pipe.execute()
    states = {}
    for index, queue in enumerate(keys.QUEUES):
        depth, dlq = counts[2 * index], counts[2 * index + 1]
        states[queue] = QueueState(depth=depth, pending=await _pending(redis, queue), dlq=dlq)
    return states
