"""Per-stage latency samples in Redis (homesec.store.telemetry), which the API reports."""

from __future__ import annotations

import math

import pytest

from homesec.contract import keys
from homesec.store.telemetry import (
    LatencyPercentiles,
    latency_percentiles,
    latency_stages,
    record_latency,
)


async def test_percentiles_of_recorded_samples(redis_client) -> None:
    for value in range(1, 201):
        await record_latency(redis_client, "analyze", value / 10)
    assert await latency_percentiles(redis_client, "analyze") == LatencyPercentiles(
        p50=10.0, p95=19.0, p99=19.8, count=200
    )
    assert await latency_stages(redis_client) == ["analyze"]


async def test_only_the_most_recent_samples_are_kept(redis_client) -> None:
    for value in range(1500):
        await record_latency(redis_client, "detect", float(value))
    assert await redis_client.llen(keys.latency("detect")) == keys.LATENCY_SAMPLES
    percentiles = await latency_percentiles(redis_client, "detect")
    assert percentiles.count == 1000
    # The oldest 500 are gone: the smallest sample left is 500.
    assert percentiles.p50 == 999.0


async def test_a_stage_without_samples_and_a_bad_sample(redis_client) -> None:
    assert await latency_percentiles(redis_client, "batch") == LatencyPercentiles(
        p50=None, p95=None, p99=None, count=0
    )
    await redis_client.lpush(keys.latency("batch"), "0.5", "garbage", "nan")
    assert await latency_percentiles(redis_client, "batch") == LatencyPercentiles(
        p50=0.5, p95=0.5, p99=0.5, count=1
    )
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite number of seconds"):
            await record_latency(redis_client, "batch", bad)
