"""The system's health: PostgreSQL, Redis, the pipeline's actors and its queues, each checked
cheaply; :mod:`homesec.policy.health` turns the facts into a status and its reasons.

``unhealthy`` when PostgreSQL or Redis does not answer (the API cannot work); ``degraded`` when
they do but a stage cannot do its work (no Supervisor report, an actor not alive or reporting a
problem, a stuck queue), so the API serves history but new events may not arrive; ``healthy``
otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from homesec.contract import keys
from homesec.contract.reports import Problem, SupervisorReport
from homesec.http.actors import is_healthy
from homesec.http.queries.streams import queue_states
from homesec.http.schemas.system import Readiness, ServiceHealth, SystemHealth, Telemetry
from homesec.http.services import Services
from homesec.policy.health import (
    actor_problems,
    overall_status,
    queue_problem,
    sightings,
    starting,
)
from homesec.policy.text import shorten
from homesec.store import redis_client
from homesec.store.database import ping
from homesec.store.streams import queue_activity
from homesec.store.telemetry import latency_percentiles, latency_stages

log = logging.getLogger("homesec.http.status")

CHECK_TIMEOUT_SECONDS = 3.0


async def database_health(services: Services) -> ServiceHealth:
    try:
        await ping(services.engine, CHECK_TIMEOUT_SECONDS)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        return ServiceHealth(
            status="unhealthy", message=shorten(f"PostgreSQL does not answer: {exc!r}")
        )
    return ServiceHealth(status="healthy")


async def redis_health(services: Services) -> ServiceHealth:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await redis_client.ping(services.redis)
    except (RedisError, OSError, TimeoutError) as exc:
        return ServiceHealth(status="unhealthy", message=shorten(f"Redis does not answer: {exc!r}"))
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
    troubled = sorted({actor.name for actor in report.actors if actor.problems})
    if troubled:
        return ServiceHealth(status="degraded", message="problems: " + ", ".join(troubled))
    return ServiceHealth(status="healthy")


def _service_problems(database: ServiceHealth, redis: ServiceHealth) -> list[Problem]:
    remedies = {
        "database": ("PostgreSQL", "start PostgreSQL again, or check DATABASE_URL"),
        "redis": ("Redis", "start Redis again, or check REDIS_URL"),
    }
    return [
        Problem(component=remedies[name][0], summary=health.message or "", remedy=remedies[name][1])
        for name, health in (("database", database), ("redis", redis))
        if health.status != "healthy"
    ]


async def _queue_problems(services: Services) -> list[Problem]:
    now = time.time()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            found = [await queue_activity(services.redis, queue, now) for queue in keys.QUEUES]
    except (RedisError, OSError, TimeoutError):  # Redis itself is reported already
        return []
    return [problem for problem in map(queue_problem, found) if problem is not None]


async def _problems(
    services: Services,
) -> tuple[ServiceHealth, ServiceHealth, SupervisorReport | None, list[Problem]]:
    database, redis, report = await asyncio.gather(
        database_health(services), redis_health(services), supervisor_report(services)
    )
    problems = _service_problems(database, redis)
    pipeline = pipeline_health(report)
    if report is None:
        problems.append(
            Problem(
                component="pipeline",
                summary=pipeline.message or "the pipeline is not running",
                remedy="start it with `homesec up`",
            )
        )
    else:
        problems += actor_problems(report.actors)
    if redis.status == "healthy":
        problems += await _queue_problems(services)
    return database, redis, report, problems


def _starting(services: Services, report: SupervisorReport | None) -> list[str]:
    if report is None:
        return []
    services.actor_sightings = sightings(services.actor_sightings, report.actors, report.checked_at)
    return starting(report.actors, services.actor_sightings, report.checked_at)


async def system_health(services: Services) -> SystemHealth:
    database, redis, report, problems = await _problems(services)
    services_up = "unhealthy" not in (database.status, redis.status)
    return SystemHealth(
        starting=_starting(services, report),
        status=overall_status(services_up=services_up, problems=problems),
        services={"database": database, "redis": redis, "pipeline": pipeline_health(report)},
        actors=list(report.actors) if report else [],
        actors_checked_at=report.checked_at if report else None,
        timestamp=dt.datetime.now(dt.UTC),
        problems=problems,
    )


async def readiness(services: Services) -> Readiness:
    database, redis, _report, problems = await _problems(services)
    database_ok, redis_ok = database.status == "healthy", redis.status == "healthy"
    return Readiness(
        ready=database_ok and redis_ok,
        database=database_ok,
        redis=redis_ok,
        status=overall_status(services_up=database_ok and redis_ok, problems=problems),
        problems=problems,
    )


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
