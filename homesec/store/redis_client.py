"""Redis access: one way to build a client, and reachability checks."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from homesec.contract.errors import ServiceUnreachable
from homesec.settings import mask_url


def create_redis(url: str, **options) -> aioredis.Redis:
    """A client that decodes responses to ``str``: every homesec key and value is text."""
    options.setdefault("decode_responses", True)
    options.setdefault("health_check_interval", 30)
    return aioredis.Redis.from_url(url, **options)


async def check_redis(url: str, *, timeout: float = 5.0) -> None:
    """Raise :class:`ServiceUnreachable` with one clear line when Redis does not answer."""
    client = create_redis(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        raise ServiceUnreachable(
            f"Redis at {mask_url(url)} is unreachable ({exc}); "
            "check REDIS_URL or unset it to use the embedded server"
        ) from None
    finally:
        await client.aclose()


async def ping(redis: aioredis.Redis) -> None:
    """Raise unless Redis answers (the front door's health check)."""
    await redis.ping()
