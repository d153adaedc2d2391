"""The Supervisor: owns every other actor, keeps the running set equal to the plan, reports.

Each cycle it registers camera folders that appeared, plans the actors
(:mod:`homesec.policy.actor_plan`), starts what is missing, stops what is no longer wanted,
pings every actor's ``health()`` on its own concurrency group and acts on what it finds
(:mod:`homesec.policy.supervision` decides: re-create the dead, restart a failed main loop,
and back off from an actor that restarts too often). It keeps no state that matters: after its
own restart it adopts the live actors by name (``get_if_exists``).

When Redis lost everything (the sentinel key is gone), it asks every watcher to scan its folder
again, which rebuilds the detection queue from the ``uploads`` ledger. And every
``reconcile_seconds`` it requeues ledger rows that no queue holds any more
(:mod:`homesec.workflows.reconcile`): whatever lost them, nothing strands.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from typing import Any

import msgspec

from homesec.actors import ray_gateway
from homesec.actors.base import ServiceActor
from homesec.contract.reports import ActorSpec, ActorStatus, SupervisorReport
from homesec.engines.gpu import gpu_count
from homesec.engines.llm.factory import choose_llm_engine, vllm_installed
from homesec.files.camera_folders import discover_camera_folders
from homesec.policy.actor_plan import Endpoints, plan_actors, reconcile
from homesec.policy.stranded import DEFAULT_STRANDED_AFTER_SECONDS
from homesec.policy.supervision import (
    Action,
    ActorRecord,
    Observation,
    Outcome,
    RestartPolicy,
    decide,
)
from homesec.settings import Settings
from homesec.store import cameras, sentinel
from homesec.workflows.reconcile import requeue_stranded

CYCLE_SECONDS = 5.0
RECONCILE_SECONDS = 30.0
HEALTH_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 10.0
# A watcher's rescan or a batcher's recovery after Redis lost its data; a late one is asked again.
REBUILD_TIMEOUT_SECONDS = 60.0
# How long shutdown waits for a supervision cycle in flight before it stops the actors anyway.
SHUTDOWN_CYCLE_WAIT_SECONDS = 20.0
# After its stop, how long to wait for the answers of an actor's `run` calls before the kill.
LOOP_ANSWER_SECONDS = 5.0


class _Tracked:
    """One actor the supervisor owns: how to make it, its handle, and what it knows of it."""

    def __init__(self, spec: ActorSpec, handle: Any, main_loop: Any) -> None:
        self.spec = spec
        self.handle = handle
        # Its `run` calls made by this supervisor: waited on before it is killed.
        self.main_loops: list[Any] = [main_loop]
        self.record = ActorRecord()
        self.last_health: Any = None

    def status(self) -> ActorStatus:
        record, health = self.record, self.last_health
        return ActorStatus(
            name=self.spec.name,
            kind=self.spec.kind,
            state=record.state,
            restarts=record.restarts,
            node=record.node,
            last_error=record.last_error,
            # When the actor itself reported that error (a restart's reason has no time).
            last_error_at=(
                health.last_error_at
                if health is not None and health.last_error == record.last_error
                else None
            ),
            problems=list(health.problems) if health is not None else [],
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
        restart_policy: RestartPolicy | None = None,
        reconcile_seconds: float = RECONCILE_SECONDS,
        stranded_after_seconds: float = DEFAULT_STRANDED_AFTER_SECONDS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.cycle_seconds = cycle_seconds
        self.restart_policy = restart_policy or RestartPolicy()
        self.reconcile_seconds = reconcile_seconds
        self.stranded_after_seconds = stranded_after_seconds
        self._next_reconcile = 0.0
        self._rebuild_pending: set[str] = set()  # watchers and batchers owing a rebuild
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
        """One round. The actors' health is checked even when PostgreSQL or Redis is away (then
        the plan cannot be read, and the running set is kept as it is), so the report always
        says what each actor meets."""
        async with self._cycle_lock:
            failure: Exception | None = None
            try:
                redis_was_flushed = await self._check_redis_sentinel()
                plan = reconcile(await self._plan(), self._tracked)
            except Exception as exc:
                failure, redis_was_flushed, plan = exc, False, None
            if plan is not None:
                for spec in plan.to_start:
                    self._start(spec)
                for name in plan.to_stop:
                    await self._stop(name)
            await asyncio.gather(*(self._check(tracked) for tracked in self._tracked.values()))
            self._checked_at = dt.datetime.now(dt.UTC)
            self.counters["cycles"] += 1
            if failure is not None:
                raise failure  # reported by the main loop
            if redis_was_flushed:
                self.log.warning("Redis lost its data: rebuilding queues from PostgreSQL")
                self._rebuild_pending = {
                    name for name, t in self._tracked.items() if t.spec.kind in self._REBUILD_STEPS
                }
            if self._rebuild_pending:
                await self._rebuild()
            await self._reconcile_ledger()

    async def _reconcile_ledger(self) -> None:
        """Every ``reconcile_seconds``: requeue ledger rows that no queue holds."""
        if time.monotonic() < self._next_reconcile:
            return
        self._next_reconcile = time.monotonic() + self.reconcile_seconds
        self.counters["requeued_stranded"] += await requeue_stranded(
            self.sessions,
            self.redis,
            now=dt.datetime.now(dt.UTC),
            stranded_after_seconds=self.stranded_after_seconds,
        )

    async def _plan(self) -> list[ActorSpec]:
        folders = await asyncio.to_thread(discover_camera_folders, self.settings.foscam_base_path)
        await cameras.register_cameras(self.sessions, folders)
        registered = await cameras.registered_cameras(self.sessions)
        engine = choose_llm_engine(
            self.settings, vllm_available=vllm_installed(), gpu_available=gpu_count() > 0
        )
        return plan_actors(
            self.settings,
            Endpoints(self.database_url, self.redis_url),
            [(camera.camera_id, camera.folder_path) for camera in registered],
            ray_gateway.cluster_facts(),
            llm_engine=engine,
        )

    def _start(self, spec: ActorSpec) -> None:
        self.log.info("starting %s", spec.name)
        self._tracked[spec.name] = _Tracked(spec, *ray_gateway.spawn(spec))
        self.counters["started"] += 1

    async def _stop(self, name: str) -> None:
        tracked = self._tracked.pop(name)
        self.log.info("stopping %s (no longer wanted)", name)
        await _stop_actor(tracked)
        self.counters["stopped"] += 1

    async def _check(self, tracked: _Tracked) -> None:
        observation = await self._observe(tracked)
        if observation.health is not None:
            tracked.last_health = observation.health
        decision = decide(tracked.record, observation, time.time(), self.restart_policy)
        before, tracked.record = tracked.record, decision.record
        name = tracked.spec.name
        if decision.action is Action.RECREATE:
            self.log.warning("%s is gone (%s); re-creating it", name, before.last_error)
            tracked.handle, main_loop = ray_gateway.spawn(tracked.spec)
            tracked.main_loops = [main_loop]
        elif decision.action is Action.RESTART_LOOP:
            self.log.warning("%s: %s; restarting it", name, decision.record.last_error)
            tracked.main_loops.append(ray_gateway.start_main_loop(tracked.handle))
        elif decision.action is Action.STOP:
            self.log.error("%s: %s", name, decision.record.last_error)
            await _stop_actor(tracked)
        elif decision.record.restarts > before.restarts:
            self.log.warning("%s was restarted by Ray", name)

    async def _observe(self, tracked: _Tracked) -> Observation:
        try:
            health = await ray_gateway.health(tracked.handle, HEALTH_TIMEOUT_SECONDS)
        except (ray_gateway.CallTimedOut, ray_gateway.ActorUnavailable):
            # Busy, or Ray is restarting it, or it has nowhere to run (its node died).
            try:
                waits_for = await asyncio.to_thread(
                    ray_gateway.placement_problem, tracked.handle, tracked.spec
                )
            except Exception as exc:  # the GCS busy too: say no more than "no answer"
                self.log.debug("%s: placement not known: %s", tracked.spec.name, exc)
                waits_for = None
            if waits_for is not None:
                return Observation(outcome=Outcome.UNPLACED, error=waits_for)
            return Observation(outcome=Outcome.TIMED_OUT)
        except ray_gateway.ActorGone as exc:
            # Dead for good (killed without restart, or its node is gone): make a new one.
            return Observation(outcome=Outcome.GONE, error=str(exc))
        return Observation(outcome=Outcome.ANSWERED, health=health)

    async def _check_redis_sentinel(self) -> bool:
        """True when Redis lost its data since the last cycle (the sentinel key is gone)."""
        created = await sentinel.plant(self.redis)
        first_cycle = self.counters["cycles"] == 0
        return created and not first_cycle

    # After Redis lost its data: watchers enqueue the ledger's queued uploads again; batchers
    # rebuild the closed batches whose jobs were in the lost analysis queue.
    _REBUILD_STEPS = {"watcher": ("scan_now", "rescan"), "batcher": ("recover_orphans", "recovery")}

    async def _rebuild(self) -> None:
        """Ask each watcher and batcher still owing a rebuild to do it; one that fails (its
        Redis connection not back yet, say) is asked again at the next cycle, until it did."""
        chosen = [
            self._tracked[name] for name in sorted(self._rebuild_pending) if name in self._tracked
        ]
        self._rebuild_pending &= {tracked.spec.name for tracked in chosen}
        results = await asyncio.gather(
            *(
                ray_gateway.call(
                    t.handle, self._REBUILD_STEPS[t.spec.kind][0], timeout=REBUILD_TIMEOUT_SECONDS
                )
                for t in chosen
            ),
            return_exceptions=True,
        )
        for tracked, result in zip(chosen, results, strict=True):
            if isinstance(result, BaseException):
                what = self._REBUILD_STEPS[tracked.spec.kind][1]
                error = f"{what} after Redis lost its data failed: {result}".splitlines()[0][:500]
                tracked.record = msgspec.structs.replace(tracked.record, last_error=error)
            else:
                self._rebuild_pending.discard(tracked.spec.name)

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
        """Stop every owned actor (the FTP server and the watchers first, so no new work comes
        in) and the loop."""
        self._stopping = True
        try:
            # A cycle in flight ends first (it may be starting an actor); one that hangs on an
            # actor that does not answer must not hold the stop hostage.
            await asyncio.wait_for(self._cycle_lock.acquire(), SHUTDOWN_CYCLE_WAIT_SECONDS)
            locked = True
        except TimeoutError:
            locked = False
            self.log.warning("a supervision cycle is still running; stopping the actors anyway")
        try:
            # The FTP server first, then the watchers: no new uploads, then no new work. The
            # actors of one kind stop side by side: one that does not answer costs its stop
            # timeout once, not once per actor.
            order = {"ftp_server": 0, "watcher": 1, "detector": 2, "batcher": 3, "analyst": 4}
            ranked = sorted((order.get(t.spec.kind, 9), n) for n, t in self._tracked.items())
            names = [name for _rank, name in ranked]
            for _rank, group in itertools.groupby(ranked, key=lambda pair: pair[0]):
                await asyncio.gather(*(self._stop(name) for _, name in group))
        finally:
            if locked:
                self._cycle_lock.release()
        return names


async def _stop_actor(tracked: _Tracked) -> None:
    """A clean stop (it closes its connections), then kill it for good either way."""
    await ray_gateway.retire(
        tracked.handle,
        tracked.main_loops,
        stop_timeout=STOP_TIMEOUT_SECONDS,
        loop_timeout=LOOP_ANSWER_SECONDS,
    )
    tracked.main_loops = []
