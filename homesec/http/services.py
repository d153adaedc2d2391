"""What the routes share: the clients, opened at start-up and closed at shutdown.

One :class:`Services` per app, kept in ``app.state.services``; routes receive it (and a database
session) through dependency injection, never through globals, so two apps in one process (the
tests make many) never share a connection or a counter.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from homesec.contract.reports import CleanupStats
from homesec.http.actors import ActorDirectory
from homesec.http.auth import ApiKeyStore
from homesec.http.metrics import ApiMetrics
from homesec.http.rate_limit import SlidingWindowLimiter
from homesec.http.relay import EventRelay
from homesec.http.sessions import SessionStore
from homesec.settings import Settings

Cleanup = Callable[[bool], Awaitable[CleanupStats]]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    relay: EventRelay
    actors: ActorDirectory
    cleanup: Cleanup | None
    api_keys: ApiKeyStore
    frontend_logs: SlidingWindowLimiter
    metrics: ApiMetrics
    system_status_interval: float
    web_sessions: SessionStore
    failed_logins: SlidingWindowLimiter
    started_at: float = field(default_factory=time.monotonic)
    # Each actor's first Supervisor report in which it was alive (its ``checked_at``): until a
    # later report, it counts as starting (pipeline.health.starting).
    actor_sightings: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_at


# How a route asks for them: ``services: ServicesDep``, ``db: DbSession``.
ServicesDep = NamedDependency[Services]
DbSession = NamedDependency[AsyncSession]


def provide_services(state: State) -> Services:
    return state.services


async def provide_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session:
        yield session
