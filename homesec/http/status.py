"""The system's health: PostgreSQL, Redis and the pipeline's actors, each checked cheaply.

``unhealthy`` when PostgreSQL or Redis does not answer (the API cannot work); ``degraded`` when
they do but the pipeline does not (no Supervisor report, or an actor that is not alive), so the
API serves history but no new events arrive; ``healthy`` otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from homesec.contract.reports import SupervisorReport
from homesec.http.actors import is_healthy
from homesec.http.queries.streams import queue_states
from homesec.http.schemas.system import Readiness, ServiceHealth, SystemHealth, Telemetry
from homesec.http.services import Services
from homesec.store.database import ping
from homesec.store.telemetry import latency_percentiles, latency_stages

log = logging.getLogger("homesec.http.status")

CHECK_TIMEOUT_SECONDS = 3.0


async def database_health(services: Services) -> ServiceHealth:
    try:
        await ping(services.engine, CHECK_TIMEOUT_SECONDS)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        return ServiceHealth(
            status="unhealthy", message=f"PostgreSQL does not answer: {exc!r}"[:300]
        )
    return ServiceHealth(status="healthy")


async def redis_health(services: Services) -> ServiceHealth:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await services.redis.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        return ServiceHealth(status="unhealthy", message=f"Redis does not answer: {exc!r}"[:300])
    return ServiceHealth(status="healthy")


async def supervisor_report(services: Services) -> SupervisorReport | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await services.actors.supervisor_report()
    except Exception as exc:  # whatever the directory's backend raises means "no report"
        log.warning("no supervisor report: %r", exc)
        return None


def pipeline_health(report: SupervisorReport | None) -> ServiceHealth:
    if report is None:
        return ServiceHealth(
            status="degraded",
            message="the pipeline is not running or its supervisor is unreachable",
        )
    down = [actor.name for actor in report.actors if not is_healthy(actor)]
    if down:
        return ServiceHealth(status="degraded", message="not alive: " + ", ".join(sorted(down)))
    if not report.actors:
        return ServiceHealth(status="degraded", message="the supervisor reports no actors")
    return ServiceHealth(status="healthy")


async def system_health(services: Services) -> SystemHealth:
    database, redis, report = await asyncio.gather(
        database_health(services), redis_health(services), supervisor_report(services)
    )
    pipeline = pipeline_health(report)
    if "unhealthy" in (database.status, redis.status):
        status = "unhealthy"
    elif pipeline.status != "healthy":
        status = "degraded"
    else:
        status = "healthy"
    return SystemHealth(
        status=status,
        services={"database": database, "redis": redis, "pipeline": pipeline},
        actors=list(report.actors) if report else [],
        actors_checked_at=report.checked_at if report else None,
        timestamp=dt.datetime.now(dt.UTC),
    )


async def readiness(services: Services) -> Readiness:
    database, redis = await asyncio.gather(database_health(services), redis_health(services))
    database_ok, redis_ok = database.status == "healthy", redis.status == "healthy"
    return Readiness(ready=database_ok and redis_ok, database=database_ok, redis=redis_ok)


async def pipeline_telemetry(services: Services) -> Telemetry:
    latencies = {
        stage: await latency_percentiles(services.redis, stage)
        for stage in await latency_stages(services.redis)
    }
    return Telemetry(
        queues=await queue_states(services.redis),
        latencies=latencies,
        timestamp=dt.datetime.now(dt.UTC),
    )
