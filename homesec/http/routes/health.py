"""Liveness and readiness, for process supervisors and load balancers."""

from __future__ import annotations

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from homesec.http import status
from homesec.http.schemas.system import Liveness, Readiness
from homesec.http.services import ServicesDep


@get("/health", tags=["health"])
async def liveness() -> Liveness:
    """The process answers; checks nothing else."""
    return Liveness()


@get(
    "/health/ready",
    tags=["health"],
    responses={503: ResponseSpec(Readiness, description="PostgreSQL or Redis does not answer")},
)
async def ready(services: ServicesDep) -> Response[Readiness]:
    """200 once PostgreSQL and Redis both answer, 503 until then."""
    report = await status.readiness(services)
    return Response(report, status_code=200 if report.ready else 503)
