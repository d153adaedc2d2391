"""System: health, readiness, statistics, pipeline telemetry, GPU samples, cleanup."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from homesec.contract.reports import ActorStatus, Problem
from homesec.store.telemetry import LatencyPercentiles

HealthStatus = Literal["healthy", "degraded", "unhealthy"]


class Liveness(msgspec.Struct, kw_only=True):
    status: Literal["alive"] = "alive"


class Readiness(msgspec.Struct, kw_only=True):
    """``ready``: PostgreSQL and Redis answer, so the API can serve. ``status`` and ``problems``
    say whether the pipeline can do its work too (as in ``/api/system/health``)."""

    ready: bool
    database: bool
    redis: bool
    status: HealthStatus = "healthy"
    problems: list[Problem] = []


class ServiceHealth(msgspec.Struct, kw_only=True):
    status: HealthStatus
    message: str | None = None


class SystemHealth(msgspec.Struct, kw_only=True):
    """unhealthy: PostgreSQL or Redis is down. degraded: the API works but a stage cannot do
    its work (see ``problems``: each says what is wrong and what to do). healthy: all works."""

    status: HealthStatus
    services: dict[str, ServiceHealth]  # database, redis, pipeline
    actors: list[ActorStatus]
    actors_checked_at: dt.datetime | None
    timestamp: dt.datetime
    problems: list[Problem] = []
    # The actors that have not reported yet (just started, or not answered): while there are
    # any, the dashboard's badge says "starting" ("supervisor": its first round is not done).
    starting: list[str] = []


class SystemStats(msgspec.Struct, kw_only=True):
    total_cameras: int
    total_events: int
    total_detections: int
    uptime_seconds: float


class QueueState(msgspec.Struct, kw_only=True):
    depth: int  # entries in the stream (XLEN)
    pending: int  # delivered to a consumer of the group, not yet acknowledged
    dlq: int  # entries in its dead-letter list


class Telemetry(msgspec.Struct, kw_only=True):
    queues: dict[str, QueueState]  # detection_queue, analysis_queue
    latencies: dict[str, LatencyPercentiles]  # seconds, by pipeline stage
    timestamp: dt.datetime


class GpuSample(msgspec.Struct, kw_only=True):
    recorded_at: dt.datetime
    gpu_name: str | None
    gpu_utilization: float | None
    memory_used: int | None
    memory_total: int | None
    temperature: float | None
    power_usage: float | None
    inference_fps: float | None


class GpuStatus(msgspec.Struct, kw_only=True):
    """The newest sample; ``available`` false (and every figure null) when none was recorded."""

    available: bool
    detail: str | None = None
    recorded_at: dt.datetime | None = None
    gpu_name: str | None = None
    gpu_utilization: float | None = None
    memory_used: int | None = None
    memory_total: int | None = None
    temperature: float | None = None
    power_usage: float | None = None
    inference_fps: float | None = None


class GpuHistory(msgspec.Struct, kw_only=True):
    """Oldest first."""

    samples: list[GpuSample]
    count: int
    limit: int
