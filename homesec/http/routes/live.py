"""Live WebSockets: ``/ws/events`` relays ``security_events``; ``/ws/system`` reports status.

Both answer ``{"type": "ping"}`` with ``{"type": "pong"}``. Sending and receiving run side by
side, so a ping is answered while the socket waits for the next event, and one lock keeps the
two from writing to the socket at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import QueryParameter
from redis.exceptions import RedisError

from homesec.http import status
from homesec.http.schemas.system import QueueState
from homesec.http.services import ServicesDep
from homesec.policy.health import badge

log = logging.getLogger("homesec.http.live")

WS_TRY_AGAIN_LATER = 1013  # RFC 6455: the server drops a client that fell behind
CLOSE_TIMEOUT_SECONDS = 2.0
PONG = msgspec.json.encode({"type": "pong"}).decode()

EventTypes = Annotated[
    str | None,
    QueryParameter(
        max_length=500, description="comma-separated message types to receive; all if unset"
    ),
]


class _Incoming(msgspec.Struct):
    type: str | None = None


class SystemStatus(msgspec.Struct, kw_only=True):
    status: str  # what the badge says: healthy, degraded, unhealthy, or starting
    services: dict[str, str]
    queues: dict[str, QueueState]
    websocket_clients: int
    timestamp: dt.datetime
    problems: list[str] = []  # why it is not healthy, each with what to do
    starting: list[str] = []  # the actors that have not reported yet


class SystemStatusMessage(msgspec.Struct, kw_only=True):
    data: SystemStatus
    type: str = "system_status"


MAX_PING_CHARS = 200  # {"type": "ping"} and a little; anything longer is not a ping


def _is_ping(text: str) -> bool:
    # A long message is not decoded at all: msgspec raises RecursionError on deep nesting.
    if len(text) > MAX_PING_CHARS:
        return False
    try:
        return msgspec.json.decode(text, type=_Incoming).type == "ping"
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return False


async def _converse(
    socket: WebSocket,
    next_message: Callable[[], Awaitable[str]],
    dropped: asyncio.Event | None = None,
) -> None:
    """Send what ``next_message`` yields and answer pings, until the client leaves or, when
    ``dropped`` is set, it is closed for falling behind."""
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:
            await socket.send_text(text)

    async def forward() -> None:
        while True:
            await send(await next_message())

    async def answer_pings() -> None:
        while True:
            if _is_ping(await socket.receive_text()):
                await send(PONG)

    tasks = [asyncio.create_task(forward()), asyncio.create_task(answer_pings())]
    if dropped is not None:
        tasks.append(asyncio.create_task(dropped.wait()))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if dropped is not None and dropped.is_set():
        # A client that fell behind may not read the close frame either: never wait long.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                await socket.close(WS_TRY_AGAIN_LATER, "client too slow: fell behind the events")
        return
    for task in done:
        error = task.exception()
        # A client leaving shows as a disconnect on receive, or a failed send (OSError).
        if error is not None and not isinstance(error, WebSocketDisconnect | OSError):
            log.warning("WebSocket ended by an error: %r", error)


@websocket("/ws/events")
async def events_socket(socket: WebSocket, services: ServicesDep, types: EventTypes = None) -> None:
    """Every message published on ``security_events``, as published (``{"type": "event",
    "data": {...}}`` and others); ``?types=event,camera_status`` to receive only some."""
    wanted = frozenset(kind.strip() for kind in types.split(",") if kind.strip()) if types else None
    await socket.accept()
    subscriber = services.relay.subscribe(wanted or None)
    try:
        await _converse(socket, subscriber.queue.get, subscriber.dropped)
    finally:
        services.relay.unsubscribe(subscriber)


async def system_status(services: ServicesDep) -> SystemStatus:
    health = await status.system_health(services)
    try:
        queues = (await status.pipeline_telemetry(services)).queues
    except (RedisError, OSError):  # Redis is down: the health part already says so
        queues = {}
    return SystemStatus(
        problems=[
            f"{problem.summary} ({problem.remedy})" if problem.remedy else problem.summary
            for problem in health.problems
        ],
        status=badge(health.status, health.starting),
        starting=health.starting,
        services={name: service.status for name, service in health.services.items()},
        queues=queues,
        websocket_clients=services.relay.client_count,
        timestamp=health.timestamp,
    )


@websocket("/ws/system")
async def system_socket(socket: WebSocket, services: ServicesDep) -> None:
    """A ``system_status`` message at once and then every few seconds (5 by default)."""
    await socket.accept()
    first = True

    async def next_status() -> str:
        nonlocal first
        if not first:
            await asyncio.sleep(services.system_status_interval)
        first = False
        message = SystemStatusMessage(data=await system_status(services))
        return msgspec.json.encode(message).decode()

    await _converse(socket, next_status)
