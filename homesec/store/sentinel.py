"""``supervisor:sentinel``: a key the supervisor sets and that never expires. When it is gone,
Redis lost its data (a restart without persistence, a flush), and the queues and batches are
rebuilt from PostgreSQL."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from homesec.contract import keys


async def plant(redis: aioredis.Redis) -> bool:
    """Set the sentinel unless it is there; True when this call set it (it was missing)."""
    return bool(await redis.set(keys.SUPERVISOR_SENTINEL, str(time.time()), nx=True))
