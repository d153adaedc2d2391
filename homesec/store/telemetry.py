"""Per-stage latency: the pipeline records durations, the API reports their percentiles.

Each stage keeps its last :data:`~homesec.contract.keys.LATENCY_SAMPLES` durations in a Redis list
(``metrics:latency:{stage}``, newest first); the stages that ever recorded one are kept in a set,
so a reader finds them without scanning the keyspace. Redis being ephemeral suits this: the
figures describe recent behaviour, and losing them loses nothing durable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
import redis.asyncio as aioredis

from homesec.contract import keys


class LatencyPercentiles(msgspec.Struct, frozen=True, kw_only=True):
    """Seconds; None when the stage has no samples yet."""

    p50: float | None
    p95: float | None
    p99: float | None
    count: int


async def record_latency(redis: aioredis.Redis, stage: str, seconds: float) -> None:
    """Add one duration of ``stage`` (seconds), keeping only the most recent samples."""
    await record_latencies(redis, stage, [seconds])


async def record_latencies(redis: aioredis.Redis, stage: str, samples: Sequence[float]) -> None:
    """Add durations of ``stage`` (seconds) in one round trip, keeping the most recent."""
    for seconds in samples:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a latency is a finite number of seconds >= 0, not {seconds!r}")
    if not samples:
        return
    key = keys.latency(stage)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, *(repr(float(seconds)) for seconds in samples))
        pipe.ltrim(key, 0, keys.LATENCY_SAMPLES - 1)
        pipe.sadd(keys.LATENCY_STAGES, stage)
        await pipe.execute()


async def latency_stages(redis: aioredis.Redis) -> list[str]:
    return sorted(await redis.smembers(keys.LATENCY_STAGES))


async def latency_percentiles(redis: aioredis.Redis, stage: str) -> LatencyPercentiles:
    raw = await redis.lrange(keys.latency(stage), 0, keys.LATENCY_SAMPLES - 1)
    samples = sorted(_floats(raw))
    return LatencyPercentiles(
        p50=_nearest_rank(samples, 50),
        p95=_nearest_rank(samples, 95),
        p99=_nearest_rank(samples, 99),
        count=len(samples),
    )


def _floats(raw: list[str | bytes]) -> list[float]:
    # A sample someone wrote by hand and got wrong is skipped, not allowed to break the report.
    values = []
    for item in raw:
        try:
            value = float(item)
        except ValueError:
            continue
        if math.isfinite(value):
            values.append(value)
    return values


def _nearest_rank(ordered: list[float], percentile: float) -> float | None:
    """The nearest-rank percentile: the smallest sample with ``percentile``% at or below it."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]
