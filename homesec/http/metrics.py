"""Prometheus metrics: request counts and latencies by route, and gauges read at scrape time.

Each app has its own registry (never the process-wide default), so several apps in one process
do not collide. Gauges that describe the system (queue depths, row counts, actor restarts) are
refreshed by the ``/metrics`` route just before it renders, so they are as fresh as the scrape.
"""

from __future__ import annotations

import time

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

PREFIX = "homesec"


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            f"{PREFIX}_queue_depth", "entries in a pipeline stream", ["queue"], registry=registry
        )
        self.queue_pending = Gauge(
            f"{PREFIX}_queue_pending",
            "entries delivered, not yet acknowledged",
            ["queue"],
            registry=registry,
        )
        self.dlq_depth = Gauge(
            f"{PREFIX}_dlq_depth", "entries in a dead-letter queue", ["queue"], registry=registry
        )
        self.rows = Gauge(f"{PREFIX}_rows", "rows in a table", ["table"], registry=registry)
        self.actor_restarts = Gauge(
            f"{PREFIX}_actor_restarts",
            "restarts of a pipeline actor",
            ["actor", "kind"],
            registry=registry,
        )
        self.actor_alive = Gauge(
            f"{PREFIX}_actor_alive",
            "1 when the actor is alive",
            ["actor", "kind"],
            registry=registry,
        )
        self.pipeline_reporting = Gauge(
            f"{PREFIX}_pipeline_reporting", "1 when the supervisor answered", registry=registry
        )
        self.websocket_clients = Gauge(
            f"{PREFIX}_websocket_event_clients", "connected /ws/events clients", registry=registry
        )
        self.websocket_dropped = Gauge(
            f"{PREFIX}_websocket_dropped_clients",
            "clients dropped for falling behind",
            registry=registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware(ASGIMiddleware):
    """Counts and times every HTTP request by its route template (``/api/events/{event_id}``)."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = (r"^/metrics$",)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        metrics: ApiMetrics = Litestar.from_scope(scope).state.services.metrics
        status = 500
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_and_note_status)
        except Exception as exc:
            # Raised by an inner middleware (auth): the app's exception handler, outside this
            # one, answers with the error's status.
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.latency.labels(method, route).observe(time.perf_counter() - started)
