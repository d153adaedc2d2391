"""``/api/system``: health, statistics, pipeline telemetry, GPU, configuration, cleanup."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import FromQuery, QueryParameter

from homesec.contract.errors import HomesecError
from homesec.contract.reports import CleanupStats
from homesec.http import status
from homesec.http.errors import BadRequest, ServiceUnavailable
from homesec.http.params import Since, Until, time_window
from homesec.http.queries import system as queries
from homesec.http.schemas.system import GpuHistory, GpuStatus, SystemHealth, SystemStats, Telemetry
from homesec.http.services import DbSession, ServicesDep

HistoryLimit = Annotated[int, QueryParameter(ge=1, le=10_000)]


async def _run_cleanup(services: ServicesDep, dry_run: bool) -> CleanupStats:
    if services.cleanup is None:
        raise ServiceUnavailable(
            "the janitor is not running in this process, so no cleanup can be run or previewed"
        )
    try:
        return await services.cleanup(dry_run)
    except (HomesecError, TimeoutError) as exc:  # the janitor actor is gone or did not answer
        raise ServiceUnavailable(f"the janitor did not run the cleanup: {exc}") from None


class SystemController(Controller):
    path = "/api/system"
    tags = ["system"]

    @get("/health")
    async def health(self, services: ServicesDep) -> SystemHealth:
        """PostgreSQL, Redis and each pipeline actor; ``degraded`` when the pipeline is not
        running, ``unhealthy`` when PostgreSQL or Redis is down."""
        return await status.system_health(services)

    @get("/stats")
    async def stats(self, db: DbSession, services: ServicesDep) -> SystemStats:
        counts = await queries.row_counts(db)
        return SystemStats(
            total_cameras=counts.cameras,
            total_events=counts.events,
            total_detections=counts.detections,
            uptime_seconds=round(services.uptime_seconds, 3),
        )

    @get("/telemetry")
    async def telemetry(self, services: ServicesDep) -> Telemetry:
        """Queue depths, unacknowledged entries, dead letters, and latency by pipeline stage."""
        return await status.pipeline_telemetry(services)

    @get("/gpu")
    async def gpu(self, db: DbSession) -> GpuStatus:
        return await queries.latest_gpu(db)

    @get("/gpu/history")
    async def gpu_history(
        self,
        db: DbSession,
        since: Since = None,
        until: Until = None,
        limit: HistoryLimit = 300,
    ) -> GpuHistory:
        since, until = time_window(since, until, ("since", "until"))
        return await queries.gpu_history(db, since, until, limit)

    @get("/config")
    async def config(self, services: ServicesDep) -> dict[str, Any]:
        """The effective settings by environment variable, secrets masked."""
        return services.settings.masked()

    @get("/cleanup")
    async def preview_cleanup(
        self, services: ServicesDep, dry_run: FromQuery[bool] = True
    ) -> CleanupStats:
        """What a cleanup would delete now; nothing is deleted."""
        if not dry_run:
            raise BadRequest("GET only previews a cleanup; use POST /api/system/cleanup")
        return await _run_cleanup(services, dry_run=True)

    @post("/cleanup", status_code=200)
    async def run_cleanup(
        self, services: ServicesDep, dry_run: FromQuery[bool] = False
    ) -> CleanupStats:
        """Delete what is past its retention now (or only count it, with ``dry_run=true``)."""
        return await _run_cleanup(services, dry_run=dry_run)
