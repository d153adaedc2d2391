"""Is this error a dependency being away, and is it back? PostgreSQL and Redis outages, told apart
from a job's own failures.

A job that fails because PostgreSQL restarts or Redis is unreachable has done nothing wrong: the
consumer holding it waits for the dependency (:func:`wait_until_back`) and does the job again,
without counting an attempt, so only jobs that fail on their own ever reach a dead-letter queue.
An error counts as an outage when it, or an error it was raised from, is a connection-level error
of either client: refused or reset connections, timeouts, a server starting up or shutting down.
A query PostgreSQL refuses (a constraint, bad data) is not an outage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from sqlalchemy import exc as sqlalchemy_errors
from sqlalchemy.ext.asyncio import AsyncEngine

from homesec.policy.retry import backoff_delay
from homesec.store.database import ping

POSTGRESQL = "PostgreSQL"
REDIS = "Redis"
PROBE_TIMEOUT_SECONDS = 3.0
PROBE_BASE_SECONDS = 0.5
PROBE_CAP_SECONDS = 15.0

_REDIS_DOWN = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
)
# asyncpg's errors for a server that is starting, stopping or gone, by name: they are raised
# from inside SQLAlchemy, and importing asyncpg here would tie this module to its version.
_POSTGRES_DOWN_NAMES = {
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "AdminShutdownError",
    "CrashShutdownError",
    "TooManyConnectionsError",
}


class DependencyDown(Exception):
    """A job could not be done because ``dependency`` is away; the job itself is fine."""

    def __init__(self, dependency: str, error: BaseException) -> None:
        super().__init__(f"{dependency} is unavailable: {type(error).__name__}: {error}")
        self.dependency = dependency
        self.error = error


def _chain(error: BaseException):
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def dependency_down(error: BaseException) -> str | None:
    """The dependency whose absence caused ``error`` (``"PostgreSQL"``, ``"Redis"``), else None."""
    for link in _chain(error):
        if isinstance(link, DependencyDown):
            return link.dependency
        if isinstance(link, _REDIS_DOWN):
            return REDIS
        if isinstance(link, sqlalchemy_errors.DBAPIError) and link.connection_invalidated:
            return POSTGRESQL
        if isinstance(link, sqlalchemy_errors.OperationalError | sqlalchemy_errors.InterfaceError):
            return POSTGRESQL
        if type(link).__name__ in _POSTGRES_DOWN_NAMES:
            return POSTGRESQL
        if isinstance(link, ConnectionError):
            # A refused or reset socket: asyncpg raises these bare on connect. The Redis client
            # wraps its own, so a bare one comes from PostgreSQL.
            return POSTGRESQL
    return None


def as_outage(error: BaseException) -> DependencyDown | None:
    dependency = dependency_down(error)
    if dependency is None:
        return None
    return error if isinstance(error, DependencyDown) else DependencyDown(dependency, error)


async def probe(dependency: str, engine: AsyncEngine, redis: aioredis.Redis) -> None:
    """Raise unless ``dependency`` answers within a few seconds."""
    if dependency == REDIS:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            await redis.ping()
    else:
        await ping(engine, PROBE_TIMEOUT_SECONDS)


async def wait_until_back(
    dependency: str,
    check: Callable[[], Awaitable[None]],
    *,
    stopping: Callable[[], bool] = lambda: False,
    on_wait: Callable[[int, float], None] = lambda attempt, delay: None,
    base: float = PROBE_BASE_SECONDS,
    cap: float = PROBE_CAP_SECONDS,
) -> float:
    """Probe with capped exponential backoff and jitter until ``check`` passes; the seconds
    waited. ``on_wait(attempt, delay)`` is told before each pause (for health and the log)."""
    started = time.monotonic()
    attempt = 0
    while not stopping():
        try:
            await check()
            return time.monotonic() - started
        except Exception as exc:
            # Still away (a probe that times out is away too); anything else is a bug to see.
            if dependency_down(exc) is None and not isinstance(exc, OSError | TimeoutError):
                raise
        attempt += 1
        delay = max(0.05, backoff_delay(attempt, base, cap))
        on_wait(attempt, delay)
        await asyncio.sleep(delay)
    return time.monotonic() - started
