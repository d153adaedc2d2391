"""The dashboard's sessions in Redis: ``session:{token hash}`` -> the hash of the API key that
logged in, with the session's lifetime as its TTL (see :mod:`homesec.http.sessions`, which makes
the tokens; only their hashes reach Redis)."""

from __future__ import annotations

import redis.asyncio as aioredis

from homesec.contract import keys


async def open_session(
    redis: aioredis.Redis, token_hash: str, key_hash: str, lifetime_seconds: int
) -> None:
    await redis.set(keys.web_session(token_hash), key_hash, ex=lifetime_seconds)


async def session_key_hash(redis: aioredis.Redis, token_hash: str) -> str | None:
    """The hash of the key that opened the session; None when there is none (or it expired)."""
    value = await redis.get(keys.web_session(token_hash))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


async def close_session(redis: aioredis.Redis, token_hash: str) -> None:
    await redis.delete(keys.web_session(token_hash))
