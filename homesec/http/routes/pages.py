"""The static files (the dashboard's scripts and styles, vendored libraries) and the
Prometheus scrape endpoint. The dashboard's pages are in :mod:`homesec.http.pages`."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.static_files import create_static_files_router
from prometheus_client import CONTENT_TYPE_LATEST

from homesec.http import status
from homesec.http.actors import is_healthy
from homesec.http.queries.streams import queue_states
from homesec.http.queries.system import row_counts
from homesec.http.services import DbSession, ServicesDep

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

static_files = create_static_files_router(
    path="/static", directories=[STATIC_DIR], include_in_schema=False
)


@get("/metrics", include_in_schema=False)
async def prometheus_metrics(db: DbSession, services: ServicesDep) -> Response[bytes]:
    """Prometheus text format; the system gauges are read now, for this scrape."""
    metrics = services.metrics
    for queue, state in (await queue_states(services.redis)).items():
        metrics.queue_depth.labels(queue).set(state.depth)
        metrics.queue_pending.labels(queue).set(state.pending)
        metrics.dlq_depth.labels(queue).set(state.dlq)
    counts = await row_counts(db)
    for table in ("cameras", "events", "detections"):
        metrics.rows.labels(table).set(getattr(counts, table))
    report = await status.supervisor_report(services)
    metrics.pipeline_reporting.set(1 if report else 0)
    # Cleared first, so an actor the supervisor no longer owns does not linger in the scrape.
    metrics.actor_restarts.clear()
    metrics.actor_alive.clear()
    for actor in report.actors if report else []:
        metrics.actor_restarts.labels(actor.name, actor.kind).set(actor.restarts)
        metrics.actor_alive.labels(actor.name, actor.kind).set(1 if is_healthy(actor) else 0)
    metrics.websocket_clients.set(services.relay.client_count)
    metrics.websocket_dropped.set(services.relay.dropped_total)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
