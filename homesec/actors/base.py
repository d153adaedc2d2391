"""What every homesec actor shares: its connections, its main loop, and a health report.

Actor classes are plain classes (tests build them without Ray); ``actors.ray_gateway`` applies the
Ray options. The shape every actor follows:

- ``run()`` is the actor's main loop, started by the supervisor and resubmitted by Ray after a
  restart (it is idempotent: a second call waits on the loop already running).
- ``health()`` answers on its own concurrency group (its own thread and event loop), so a busy
  actor still answers; it only reads plain attributes, never the connections.
- ``stop()`` ends the loop and closes the connections.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from typing import ClassVar

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from homesec.actors import ray_gateway
from homesec.contract.reports import ActorHealth, Problem
from homesec.policy.retry import describe_error
from homesec.policy.text import shorten
from homesec.settings import Settings
from homesec.store.database import create_engine, session_factory
from homesec.store.log_handler import install_db_log_handler
from homesec.store.outages import POSTGRESQL, REDIS, DependencyDown, probe, wait_until_back
from homesec.store.redis_client import create_redis

# How long stop() waits for the pending `run` calls to return once the loop has ended.
RUN_RETURN_SECONDS = 2.0


class ServiceActor:
    """Base of every actor: settings, lazily opened PostgreSQL and Redis, a main loop."""

    kind: ClassVar[str] = "actor"

    def __init__(self, name: str, settings: Settings, database_url: str, redis_url: str) -> None:
        self.name = name
        self.settings = settings
        self.database_url = database_url
        self.redis_url = redis_url
        self.log = logging.getLogger(f"homesec.{self.kind}")
        self.started_at = time.time()
        self.counters: collections.Counter[str] = collections.Counter()
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._redis: aioredis.Redis | None = None
        self._loop_task: asyncio.Task | None = None
        self._stopping = False
        self._run_calls: set[asyncio.Task] = set()  # `run` calls in flight
        # The dependency this actor is waiting for (an outage), and since when.
        self._waiting_for: Problem | None = None
        _send_logs_to_database(database_url, settings.log_level)

    # --- connections (opened on the actor's main event loop, on first use) -----------------
    def _database(self) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
        if self._engine is None or self._sessions is None:
            self._engine = create_engine(self.database_url, pool_size=2)
            self._sessions = session_factory(self._engine)
        return self._engine, self._sessions

    @property
    def engine(self) -> AsyncEngine:
        return self._database()[0]

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._database()[1]

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = create_redis(self.redis_url)
        return self._redis

    # --- outages ----------------------------------------------------------------------------
    async def wait_out(self, outage: DependencyDown) -> None:
        """Pause this actor's work until ``outage.dependency`` answers again: probe it with
        capped exponential backoff and jitter, and report the wait in health meanwhile. The
        work that met the outage is the caller's to hold and do again; no attempt is counted."""
        dependency = outage.dependency
        self._waiting_for = Problem(
            component=self.name,
            summary=shorten(f"waiting for {dependency}: {describe_error(outage.error)}"),
            remedy=_REMEDIES.get(dependency, ""),
            since=time.time(),
        )
        self.counters["outages"] += 1
        self.log.warning("%s: %s; pausing its work until it is back", self.name, outage)

        async def check() -> None:
            await probe(dependency, self.engine, self.redis)

        try:
            waited = await wait_until_back(dependency, check, stopping=lambda: self.stopping)
        finally:
            self._waiting_for = None
        if not self.stopping:
            self.log.info("%s: %s is back after %.1f s; resuming", self.name, dependency, waited)

    def health_problems(self) -> list[Problem]:
        """What keeps this actor from its work now (subclasses add theirs)."""
        return [self._waiting_for] if self._waiting_for is not None else []

    # --- lifecycle --------------------------------------------------------------------------
    async def run(self) -> None:
        """Run the main loop until :meth:`stop`; idempotent.

        A loop ended by :meth:`stop` returns normally: the call is done, not failed, so Ray
        neither retries it nor reports it as a failed task when the actor is killed after the
        stop (the "Task ... failed ... killed by ray.kill" lines a clean shutdown printed)."""
        if self._loop_task is None or self._loop_task.done():
            self._stopping = False
            self._loop_task = asyncio.create_task(self._guarded_main(), name=f"{self.name}-main")
        loop_task = self._loop_task
        current = asyncio.current_task()
        if current is not None:
            self._run_calls.add(current)
        try:
            await asyncio.shield(loop_task)
        except asyncio.CancelledError:
            if self._stopping and loop_task.cancelled():
                return
            raise
        finally:
            self._run_calls.discard(current)

    async def _guarded_main(self) -> None:
        try:
            await self.main()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the loop died: say so in health, then let Ray see it
            self.record_error(exc)
            self.log.exception("%s: main loop failed", self.name)
            raise

    async def main(self) -> None:
        """The actor's work. Subclasses loop until ``self.stopping``."""
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        self._stopping = True
        if self._loop_task is not None and not self._loop_task.done():
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop_task
        # Let the pending `run` calls return before this one does: the caller kills the actor
        # next, and a `run` still open then is a failed task in Ray's eyes.
        waiting = self._run_calls - {asyncio.current_task()}
        if waiting:
            await asyncio.wait(waiting, timeout=RUN_RETURN_SECONDS)
        await self.close()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = self._sessions = None

    # --- reporting --------------------------------------------------------------------------
    def record_error(self, error: BaseException | str) -> None:
        self.last_error = describe_error(error)
        self.last_error_at = time.time()
        self.counters["errors"] += 1

    def health_detail(self) -> dict[str, str]:
        """Extra facts for the health report (subclasses add theirs)."""
        return {}

    async def health(self) -> ActorHealth:
        if self._loop_task is None:
            state = "idle"
        elif not self._loop_task.done():
            state = "running"
        else:
            state = "stopped" if self._stopping else "failed"
        return ActorHealth(
            name=self.name,
            kind=self.kind,
            state=state,
            started_at=self.started_at,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            counters=dict(self.counters),
            detail={**self.health_detail(), **_placement()},
            problems=self.health_problems(),
        )


_REMEDIES = {
    POSTGRESQL: "start PostgreSQL again, or check DATABASE_URL; the work resumes by itself",
    REDIS: "start Redis again, or check REDIS_URL; the work resumes by itself",
}


def _placement() -> dict[str, str]:
    """Where this actor runs: its process, and its Ray node when it runs under Ray."""
    where = {"pid": str(os.getpid())}
    node_id = ray_gateway.current_node_id()  # None outside Ray (tests build plain objects)
    if node_id is not None:
        where["node_id"] = node_id
    return where


_db_log_handler_installed = False


def _send_logs_to_database(database_url: str, level: str) -> None:
    """Inside a Ray actor's process, once: its log records go to the ``logs`` table too.
    Plain objects built by tests (no actor around them) leave logging alone."""
    global _db_log_handler_installed
    if _db_log_handler_installed or not ray_gateway.inside_actor():
        return
    logging.getLogger().setLevel(level)
    install_db_log_handler(database_url, level)
    _db_log_handler_installed = True
