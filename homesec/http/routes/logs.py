"""``/api/logs``: structured logs, and the dashboard's own log lines."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody

from homesec.contract.enums import LogSource
from homesec.http.errors import PayloadTooLarge, TooManyRequests
from homesec.http.openapi import problems
from homesec.http.pagination import decode_cursor
from homesec.http.params import (
    DEFAULT_LIMIT,
    FilterText,
    Limit,
    PageCursor,
    SearchText,
    Since,
    Until,
    time_window,
)
from homesec.http.queries import logs as queries
from homesec.http.schemas.logs import (
    MAX_EXTRA_BYTES,
    FrontendLog,
    LogAccepted,
    LogLevel,
    LogPage,
    LogStats,
)
from homesec.http.services import DbSession, ServicesDep
from homesec.store import logs as store_logs

MAX_BODY_BYTES = 64 * 1024
MAX_USER_AGENT_CHARS = 500


class LogController(Controller):
    path = "/api/logs"
    tags = ["logs"]

    @get()
    async def list_logs(
        self,
        db: DbSession,
        level: FromQuery[LogLevel | None] = None,
        component: FilterText = None,
        camera_id: FilterText = None,
        source: FromQuery[LogSource | None] = None,
        start_date: Since = None,
        end_date: Until = None,
        search: SearchText = None,
        cursor: PageCursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> LogPage:
        """Log records matching every filter given, newest first; ``search`` matches the
        message, case-insensitively."""
        start_date, end_date = time_window(start_date, end_date)
        filters = queries.LogFilters(
            level=level,
            component=component,
            camera_id=camera_id,
            source=source,
            start_time=start_date,
            end_time=end_date,
            search=search,
        )
        position = decode_cursor(cursor) if cursor else None
        return await queries.list_logs(db, filters, position, limit)

    @get("/stats")
    async def log_stats(self, db: DbSession) -> LogStats:
        return await queries.log_stats(db, dt.datetime.now(dt.UTC))

    @post(request_max_body_size=MAX_BODY_BYTES, responses=problems(429))
    async def add_frontend_log(
        self, request: Request, db: DbSession, services: ServicesDep, data: JSONBody[FrontendLog]
    ) -> LogAccepted:
        """Store a dashboard log line (``source=frontend``); at most 60 a minute per client."""
        client = request.client.host if request.client else "unknown"
        retry_after = services.frontend_logs.retry_after(client)
        if retry_after is not None:
            raise TooManyRequests(
                "too many log lines from this client; slow down",
                headers={"Retry-After": str(retry_after)},
            )
        if data.extra is not None and len(msgspec.json.encode(data.extra)) > MAX_EXTRA_BYTES:
            raise PayloadTooLarge(f"extra is larger than {MAX_EXTRA_BYTES // 1024} KB of JSON")
        user_agent = request.headers.get("user-agent")
        if user_agent is not None:
            user_agent = user_agent.replace("\x00", "")[:MAX_USER_AGENT_CHARS]
        log_id = await store_logs.add_frontend(
            services.sessions,
            level=data.level,
            component=data.component,
            message=data.message,
            user_agent=user_agent,
            camera_id=data.camera_id,
            event_id=data.event_id,
            detection_id=data.detection_id,
            request_id=data.request_id,
            extra=data.extra,
        )
        return LogAccepted(id=log_id)
