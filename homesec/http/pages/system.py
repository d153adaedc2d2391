"""The System page: actors, queues, dead letters, GPU, recent warnings and errors, retention.

Read with the functions behind ``/api/system``, ``/api/dlq`` and ``/api/logs``; its buttons
call those routes (requeue, clear, cleanup), each after a confirmation.
"""

from __future__ import annotations

import datetime as dt
import time

from litestar import Request, get
from litestar.response import Template
from redis.exceptions import RedisError

from homesec.http import status
from homesec.http.queries import logs as log_queries
from homesec.http.queries import system as system_queries
from homesec.http.services import DbSession, ServicesDep
from homesec.store.streams import queue_activity

LOG_LINES = 40
GPU_WINDOW = dt.timedelta(hours=1)
# The level filter's choices: what each shows.
LOG_LEVELS = {
    "problems": ("WARNING", "ERROR", "CRITICAL"),
    "errors": ("ERROR", "CRITICAL"),
    "all": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
}


async def _recent_logs(db, levels: tuple[str, ...], component: str, search: str):
    records = []
    for level in levels:
        filters = log_queries.LogFilters(
            level=level, component=component or None, search=search or None
        )
        records += (await log_queries.list_logs(db, filters, None, LOG_LINES)).items
    records.sort(key=lambda record: (record.timestamp, record.id), reverse=True)
    return records[:LOG_LINES]


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
            "queues": queues,
            "oldest": oldest,
            "gpu": gpu.samples,
            "gpu_lines": gpu_lines(gpu.samples, now),
            "chart": (CHART_WIDTH, CHART_HEIGHT),
            "logs": await _recent_logs(db, LOG_LEVELS[level], component, search),
            "level": level,
            "levels": list(LOG_LEVELS),
            "component": component,
            "search": search,
            "retention_days": services.settings.retention_days,
            "cleanup_available": services.cleanup is not None,
        },
    )
