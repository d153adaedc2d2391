"""Content deduplication: ``dedupe:{sha256}`` -> the path of the first file with that content,
set NX with ``DEDUPE_TTL_SECONDS``."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from homesec.contract import keys


async def claim_content(
    redis: aioredis.Redis, sha256: str, path: str, ttl_seconds: int
) -> str | None:
    """Claim ``dedupe:{sha256}`` for ``path`` (SET NX EX). Returns the path of an earlier file with
    this content when there is one, else None: claimed now, or claimed before by this very path
    (a restart re-scanning its own file is no duplicate)."""
    key = keys.dedupe(sha256)
    # Twice at most: a claim that expires between the SET and the GET is free to take.
    for _ in range(2):
        if await redis.set(key, path, nx=True, ex=ttl_seconds):
            return None
        holder = await redis.get(key)
        if holder is not None:
            return None if holder == path else holder
    return None


async def claim_contents(
    redis: aioredis.Redis, claims: Sequence[tuple[str, str]], ttl_seconds: int
) -> list[str | None]:
    """:func:`claim_content` for each ``(sha256, path)``, in order, in two round trips for the
    lot. Two files of one content in ``claims``: the first claims it, the second duplicates it."""
    if not claims:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for sha256, path in claims:
            pipe.set(keys.dedupe(sha256), path, nx=True, ex=ttl_seconds)
        claimed = await pipe.execute()
    originals: list[str | None] = [None] * len(claims)
    lost = [index for index, won in enumerate(claimed) if not won]
    if not lost:
        return originals
    async with redis.pipeline(transaction=False) as pipe:
        for index in lost:
            pipe.get(keys.dedupe(claims[index][0]))
        holders = await pipe.execute()
    for index, holder in zip(lost, holders, strict=True):
        sha256, path = claims[index]
        if holder is None:  # expired between the SET and the GET: claim it on its own
            originals[index] = await claim_content(redis, sha256, path, ttl_seconds)
        else:
            originals[index] = None if holder == path else holder
    return originals
