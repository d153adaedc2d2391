"""The System page: actors, queues, dead letters, GPU, recent warnings and errors, retention.

Read with the functions behind ``/api/system``, ``/api/dlq`` and ``/api/logs``; its buttons
call those routes (requeue, clear, cleanup), each after a confirmation.
"""

from __future__ import annotations

import datetime as dt
import time

import msgspec
from litestar import Request, get
from litestar.response import Template
from redis.exceptions import RedisError

from homesec.http import status
from homesec.http.actors import is_healthy
from homesec.http.queries import logs as log_queries
from homesec.http.queries import system as system_queries
from homesec.http.services import DbSession, ServicesDep
from homesec.policy.health import badge
from homesec.store.streams import queue_activity

LOG_LINES = 40
GPU_WINDOW = dt.timedelta(hours=1)
# The level filter's choices: what each shows.
LOG_LEVELS = {
    "problems": ("WARNING", "ERROR", "CRITICAL"),
    "errors": ("ERROR", "CRITICAL"),
    "all": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
}


# What the GPU monitor logs (as a warning, once) on a machine without a GPU: on the page it is
# information about the machine, not a warning.
NO_GPU = ": no GPU ("


def is_no_gpu_note(record) -> bool:
    return NO_GPU in record.message


async def _recent_logs(db, levels: tuple[str, ...], component: str, search: str):
    records = []
    for level in levels:
        filters = log_queries.LogFilters(
            level=level, component=component or None, search=search or None
        )
        records += (await log_queries.list_logs(db, filters, None, LOG_LINES)).items
    records.sort(key=lambda record: (record.timestamp, record.id), reverse=True)
    return records[:LOG_LINES]


async def _no_gpu_note(db) -> str | None:
    """Why this machine has no GPU, as the GPU monitor last said: "no GPU (NVML sees no GPU)"."""
    filters = log_queries.LogFilters(level="WARNING", search=NO_GPU)
    found = (await log_queries.list_logs(db, filters, None, 1)).items
    if not found:
        return None
    message = found[0].message
    return message[message.index(NO_GPU) + 2 :].split(";")[0].strip()


class ActorError(msgspec.Struct, frozen=True, kw_only=True):
    """An actor's last error as the page says it: when, and whether it is behind it now."""

    text: str
    at: dt.datetime | None
    resolved: bool


def actor_errors(health) -> dict[str, ActorError]:
    """Each actor's last error; ``resolved`` when the actor has reported since and is alive with
    no problem now (the Supervisor keeps an actor's last error after it recovers)."""
    errors = {}
    for actor in health.actors:
        if not actor.last_error:
            continue
        at = (
            dt.datetime.fromtimestamp(actor.last_error_at, dt.UTC)
            if actor.last_error_at is not None
            else None
        )
        resolved = is_healthy(actor) and not actor.problems and actor.name not in health.starting
        errors[actor.name] = ActorError(text=actor.last_error, at=at, resolved=resolved)
    return errors


CHART_WIDTH, CHART_HEIGHT = 300, 80


def gpu_lines(samples, now: dt.datetime) -> dict[str, str]:
    """SVG polyline points of utilisation and memory use (percent) over the last hour."""
    lines = {"utilisation": [], "memory": []}
    for sample in samples:
        x = CHART_WIDTH * (1 - (now - sample.recorded_at) / GPU_WINDOW)
        if sample.gpu_utilization is not None:
            y = CHART_HEIGHT * (1 - min(sample.gpu_utilization, 100) / 100)
            lines["utilisation"].append(f"{x:.1f},{y:.1f}")
        if sample.memory_used is not None and sample.memory_total:
            y = CHART_HEIGHT * (1 - min(sample.memory_used / sample.memory_total, 1))
            lines["memory"].append(f"{x:.1f},{y:.1f}")
    return {name: " ".join(points) for name, points in lines.items()}


@get("/system", include_in_schema=False)
async def system_page(request: Request, db: DbSession, services: ServicesDep) -> Template:
    query = request.query_params
    level = query.get("level") or "problems"
    if level not in LOG_LEVELS:
        level = "problems"
    component = (query.get("component") or "").strip()[:100].replace("\x00", "")
    search = (query.get("search") or "").strip()[:200].replace("\x00", "")
    health = await status.system_health(services)
    try:
        telemetry = await status.pipeline_telemetry(services)
        queues = telemetry.queues
        # The oldest entry's age: how long the queue's head has waited (acknowledged entries
        # are deleted, so what is left is the backlog).
        oldest = {
            queue: (
                await queue_activity(services.redis, queue, time.time())
            ).oldest_entry_age_seconds
            for queue in queues
        }
    except (RedisError, OSError):  # Redis is down: the health part says so
        queues, oldest = {}, {}
    now = dt.datetime.now(dt.UTC)
    since = now - GPU_WINDOW
    gpu = await system_queries.gpu_history(db, since, None, 720)
    return Template(
        template_name="system.html",
        context={
            "page": "system",
            "active": "/system",
            "health": health,
            "badge": badge(health.status, health.starting),
            "actor_errors": actor_errors(health),
            "queues": queues,
            "oldest": oldest,
            "gpu": gpu.samples,
            "gpu_lines": gpu_lines(gpu.samples, now),
            "chart": (CHART_WIDTH, CHART_HEIGHT),
            "logs": [
                record
                for record in await _recent_logs(db, LOG_LEVELS[level], component, search)
                if level == "all" or not is_no_gpu_note(record)
            ],
            "no_gpu": None if gpu.samples else await _no_gpu_note(db),
            "level": level,
            "levels": list(LOG_LEVELS),
            "component": component,
            "search": search,
            "retention_days": services.settings.retention_days,
            "cleanup_available": services.cleanup is not None,
        },
    )
