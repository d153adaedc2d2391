"""The Supervisor: owns every other actor, keeps the running set equal to the plan, reports.

Each cycle it registers camera folders that appeared, plans the actors (``actors.plan``),
starts what is missing, stops what is no longer wanted, pings every actor's ``health()`` on its
own concurrency group, re-creates the dead and restarts a failed main loop. It keeps no state
that matters: after its own restart it adopts the live actors by name (``get_if_exists``).

When Redis lost everything (the sentinel key is gone), it asks every watcher to scan its folder
again, which rebuilds the detection queue from the ``uploads`` ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Any

import msgspec
import ray
from ray.exceptions import GetTimeoutError, RayActorError

from homesec.actors.base import ActorHealth, ServiceActor
from homesec.actors.camera_registry import (
    discover_camera_folders,
    register_cameras,
    registered_cameras,
)
from homesec.actors.factory import (
    CAMERA_FOLDERS_RESOURCE,
    ActorSpec,
    create_actor,
    health_call,
    start_main_loop,
)
from homesec.actors.plan import ClusterFacts, Endpoints, plan_actors, reconcile
from homesec.engines.gpu import gpu_count
from homesec.engines.llm.factory import choose_llm_engine, vllm_installed
from homesec.ops import keys
from homesec.pipeline.structs import ActorStatus, SupervisorReport
from homesec.settings import Settings

CYCLE_SECONDS = 5.0
HEALTH_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 10.0


class _Tracked:
    """What the supervisor knows of one actor it owns."""

    def __init__(self, spec: ActorSpec, handle: Any) -> None:
        self.spec = spec
        self.handle = handle
        self.state = "STARTING"
        self.restarts = 0
        self.started_at: float | None = None
        self.node: str | None = None
        self.last_error: str | None = None
        self.last_health: ActorHealth | None = None

    def status(self) -> ActorStatus:
        return ActorStatus(
            name=self.spec.name,
            kind=self.spec.kind,
            state=self.state,
            restarts=self.restarts,
            node=self.node,
            last_error=self.last_error,
        )


class Supervisor(ServiceActor):
    kind = "supervisor"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        cycle_seconds: float = CYCLE_SECONDS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.cycle_seconds = cycle_seconds
        self._tracked: dict[str, _Tracked] = {}
        self._checked_at = dt.datetime.now(dt.UTC)
        self._cycle_lock = asyncio.Lock()

    # --- the loop ---------------------------------------------------------------------------
    async def main(self) -> None:
        while not self.stopping:
            try:
                await self.cycle()
            except Exception as exc:  # one bad cycle (PostgreSQL restarting) is not fatal
                self.record_error(exc)
                self.log.warning("supervision cycle failed: %s", exc)
            await asyncio.sleep(self.cycle_seconds)

    async def cycle(self) -> None:
        async with self._cycle_lock:
            redis_was_flushed = await self._check_redis_sentinel()
            desired = await self._plan()
            plan = reconcile(desired, self._tracked)
            for spec in plan.to_start:
                self._start(spec)
            for name in plan.to_stop:
                await self._stop(name)
            await asyncio.gather(*(self._check(tracked) for tracked in self._tracked.values()))
            if redis_was_flushed:
                await self._rescan_watchers()
            self._checked_at = dt.datetime.now(dt.UTC)
            self.counters["cycles"] += 1

    async def _plan(self) -> list[ActorSpec]:
        folders = await asyncio.to_thread(discover_camera_folders, self.settings.foscam_base_path)
        await register_cameras(self.sessions, folders)
        cameras = await registered_cameras(self.sessions)
        resources = ray.cluster_resources()
        cluster = ClusterFacts(
            gpus=resources.get("GPU", 0.0),
            has_camera_folders_resource=CAMERA_FOLDERS_RESOURCE in resources,
            gpu_node_ids=tuple(
                sorted(
                    node["NodeID"]
                    for node in ray.nodes()
                    if node.get("Alive") and node.get("Resources", {}).get("GPU", 0) > 0
                )
            ),
        )
        engine = choose_llm_engine(
            self.settings, vllm_available=vllm_installed(), gpu_available=gpu_count() > 0
        )
        return plan_actors(
            self.settings,
            Endpoints(self.database_url, self.redis_url),
            [(camera.camera_id, camera.folder_path) for camera in cameras],
            cluster,
            llm_engine=engine,
        )

    def _start(self, spec: ActorSpec) -> None:
        self.log.info("starting %s", spec.name)
        self._tracked[spec.name] = _Tracked(spec, create_actor(spec))
        self.counters["started"] += 1

    async def _stop(self, name: str) -> None:
        tracked = self._tracked.pop(name)
        self.log.info("stopping %s (no longer wanted)", name)
        # A clean stop closes connections; it is killed below either way.
        with contextlib.suppress(RayActorError, TimeoutError, GetTimeoutError):
            await asyncio.wait_for(tracked.handle.stop.remote(), STOP_TIMEOUT_SECONDS)
        ray.kill(tracked.handle, no_restart=True)
        self.counters["stopped"] += 1

    async def _check(self, tracked: _Tracked) -> None:
        try:
            health: ActorHealth = await asyncio.wait_for(
                health_call(tracked.handle), HEALTH_TIMEOUT_SECONDS
            )
        except (TimeoutError, GetTimeoutError):
            tracked.state = "UNRESPONSIVE"
            return
        except RayActorError as exc:
            # Dead for good (killed without restart, or its node is gone): make a new one.
            tracked.state = "DEAD"
            tracked.last_error = f"actor died: {exc}".splitlines()[0][:500]
            tracked.restarts += 1
            self.log.warning("%s died; re-creating it", tracked.spec.name)
            tracked.handle = create_actor(tracked.spec)
            return
        if tracked.started_at is not None and health.started_at != tracked.started_at:
            tracked.restarts += 1  # Ray restarted it in place
            self.log.warning("%s was restarted by Ray", tracked.spec.name)
        tracked.started_at = health.started_at
        tracked.node = health.detail.get("node_id") or tracked.node
        tracked.last_error = health.last_error or tracked.last_error
        tracked.last_health = health
        if health.state == "failed":
            tracked.state = "FAILED"
            tracked.restarts += 1
            self.log.warning(
                "%s: main loop failed (%s); restarting it", tracked.spec.name, health.last_error
            )
            start_main_loop(tracked.handle)
        else:
            tracked.state = "ALIVE"

    async def _check_redis_sentinel(self) -> bool:
        """True when Redis lost its data since the last cycle (the sentinel key is gone)."""
        created = await self.redis.set(keys.SUPERVISOR_SENTINEL, str(time.time()), nx=True)
        first_cycle = self.counters["cycles"] == 0
        return bool(created) and not first_cycle

    async def _rescan_watchers(self) -> None:
        self.log.warning("Redis lost its data: rebuilding queues from PostgreSQL")
        watchers = [t for t in self._tracked.values() if t.spec.kind == "watcher"]
        results = await asyncio.gather(
            *(t.handle.scan_now.remote() for t in watchers), return_exceptions=True
        )
        for tracked, result in zip(watchers, results, strict=True):
            if isinstance(result, BaseException):
                tracked.last_error = f"rescan failed: {result}".splitlines()[0][:500]
        # Closed batches whose jobs were in the lost analysis queue: batchers rebuild them.
        batchers = [t for t in self._tracked.values() if t.spec.kind == "batcher"]
        results = await asyncio.gather(
            *(t.handle.recover_orphans.remote() for t in batchers), return_exceptions=True
        )
        for tracked, result in zip(batchers, results, strict=True):
            if isinstance(result, BaseException):
                tracked.last_error = f"batch recovery failed: {result}".splitlines()[0][:500]

    # --- what the front door and `homesec up` call ------------------------------------------
    async def report(self) -> SupervisorReport:
        """Every owned actor with state and restarts. Answers on the health group."""
        return SupervisorReport(
            actors=[tracked.status() for tracked in self._tracked.values()],
            checked_at=self._checked_at,
        )

    async def actor_health(self) -> dict[str, Any]:
        """The last health report of each actor, as plain data (for `homesec status`)."""
        return {
            name: msgspec.to_builtins(tracked.last_health)
            for name, tracked in self._tracked.items()
            if tracked.last_health is not None
        }

    async def shutdown(self) -> list[str]:
        """Stop every owned actor (watchers first, so no new work comes in) and the loop."""
        self._stopping = True
        async with self._cycle_lock:
            order = {"watcher": 0, "detector": 1, "batcher": 2, "analyst": 3}
            names = sorted(self._tracked, key=lambda n: order.get(self._tracked[n].spec.kind, 9))
            for name in names:
                await self._stop(name)
        return names
