"""The app factory: one Litestar application for the API, the WebSockets and the dashboard."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from homesec.contract import keys
from homesec.http.actors import ActorDirectory, NoActors
from homesec.http.auth import AccessMiddleware, ApiKeyStore
from homesec.http.errors import EXCEPTION_HANDLERS
from homesec.http.hosts import allowed_hosts
from homesec.http.metrics import ApiMetrics, MetricsMiddleware
from homesec.http.openapi import complete_document
from homesec.http.pages import alerts as alert_pages
from homesec.http.pages import cameras as camera_pages
from homesec.http.pages import events as event_pages
from homesec.http.pages import incidents as incident_pages
from homesec.http.pages import login
from homesec.http.pages import stats as stats_pages
from homesec.http.pages import system as system_pages
from homesec.http.pages import timeline as timeline_pages
from homesec.http.pages import zones as zone_pages
from homesec.http.pages.templates import template_config
from homesec.http.rate_limit import SlidingWindowLimiter
from homesec.http.relay import DEFAULT_QUEUE_SIZE, EventRelay
from homesec.http.request_checks import MAX_BODY_BYTES, check_request
from homesec.http.routes import health, live, pages
from homesec.http.routes.alerts import (
    AlertController,
    AlertRuleController,
    NotifyChannelController,
)
from homesec.http.routes.cameras import CameraAccountController, CameraController
from homesec.http.routes.detections import DetectionController
from homesec.http.routes.dlq import DlqController
from homesec.http.routes.events import EventController
from homesec.http.routes.feedback import FeedbackController
from homesec.http.routes.ftp import FtpBanController
from homesec.http.routes.house_mode import HouseModeController
from homesec.http.routes.incidents import IncidentController
from homesec.http.routes.logs import LogController
from homesec.http.routes.stats import StatsController
from homesec.http.routes.system import SystemController
from homesec.http.routes.zones import CameraZoneController
from homesec.http.services import Cleanup, Services, provide_services, provide_session
from homesec.http.sessions import SessionStore
from homesec.settings import Settings
from homesec.store.api_keys import active_key_hashes
from homesec.store.database import create_engine, session_factory
from homesec.store.redis_client import create_redis

FRONTEND_LOGS_PER_MINUTE = 60
FAILED_LOGINS_PER_MINUTE = 10
SWAGGER = "/static/vendor/swagger-ui-dist"
SYSTEM_STATUS_INTERVAL_SECONDS = 5.0


def _package_version() -> str:
    try:
        return version("homesec")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0.0.0"


def create_app(
    settings: Settings,
    *,
    database_url: str,
    redis_url: str,
    actors: ActorDirectory | None = None,
    cleanup: Cleanup | None = None,
    events_channel: str = keys.SECURITY_EVENTS,
    websocket_queue_size: int = DEFAULT_QUEUE_SIZE,
    system_status_interval: float = SYSTEM_STATUS_INTERVAL_SECONDS,
) -> Litestar:
    """The application. Connections open when it starts (ASGI lifespan) and close when it stops.

    ``database_url`` and ``redis_url`` are given apart from ``settings`` because the runner may
    have started embedded servers. ``actors`` tells the health routes about the pipeline (none:
    reported as not running); ``cleanup`` runs the janitor (none: the cleanup routes answer 503).
    ``events_channel`` is for tests and benchmarks only: Redis pub/sub channels are server-wide,
    not per database, so runs sharing a server would otherwise hear each other.
    """
    frontend_logs = SlidingWindowLimiter(FRONTEND_LOGS_PER_MINUTE, 60.0)
    failed_logins = SlidingWindowLimiter(FAILED_LOGINS_PER_MINUTE, 60.0)
    metrics = ApiMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        redis = create_redis(redis_url)
        relay = EventRelay(redis, channel=events_channel, queue_size=websocket_queue_size)

        app.state.services = Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            redis=redis,
            relay=relay,
            actors=actors or NoActors(),
            cleanup=cleanup,
            api_keys=ApiKeyStore(functools.partial(active_key_hashes, sessions)),
            frontend_logs=frontend_logs,
            metrics=metrics,
            system_status_interval=system_status_interval,
            web_sessions=SessionStore(redis, settings.session_hours * 3600),
            failed_logins=failed_logins,
        )
        relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await redis.aclose()
            await engine.dispose()

    app = Litestar(
        route_handlers=[
            health.liveness,
            health.ready,
            SystemController,
            CameraController,
            CameraAccountController,
            CameraZoneController,
            EventController,
            IncidentController,
            FeedbackController,
            DetectionController,
            LogController,
            DlqController,
            FtpBanController,
            AlertRuleController,
            AlertController,
            NotifyChannelController,
            HouseModeController,
            StatsController,
            live.events_socket,
            live.system_socket,
            event_pages.events_page,
            event_pages.event_page,
            event_pages.event_row,
            incident_pages.incident_page,
            timeline_pages.timeline_page,
            camera_pages.cameras_page,
            zone_pages.zones_page,
            alert_pages.alerts_page,
            system_pages.system_page,
            stats_pages.stats_page,
            login.login_page,
            login.login,
            login.logout,
            pages.static_files,
            pages.prometheus_metrics,
        ],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "db": Provide(provide_session),
        },
        lifespan=[lifespan],
        before_request=check_request,
        request_max_body_size=MAX_BODY_BYTES,
        middleware=[MetricsMiddleware(), AccessMiddleware(allowed_hosts(settings))],
        template_config=template_config(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="homesec",
            version=_package_version(),
            description="Local AI home security: cameras, detections, risk-scored events.",
            path="/schema",
            # Swagger UI from the package: the docs work offline and ask no other host.
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/swagger", "/"],
                    js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                    favicon="<link rel='icon' href='data:,'>",
                )
            ],
        ),
    )
    complete_document(app.openapi_schema)  # built once, here; served as completed
    return app
