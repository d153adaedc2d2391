"""Batcher: one per camera; gathers the camera's detections into batches for the Analyst.

The decisions are :mod:`homesec.policy.batching`'s (window, idle, cap, fast path); this shell
feeds them the camera's state and ``time.time()`` and writes the outcome through
:mod:`homesec.store.batch_state`, whose order of writes keeps a crash from losing a detection
or making a second event. The state lives in Redis (the contract's ``batch:*`` keys), so a
restarted Batcher resumes the open batch; this object keeps a copy it changes only after Redis
accepted the write.

``add`` (called by the Detectors) and the tick run concurrently in a Ray async actor; one
``asyncio.Lock`` serialises them, since each reads the state, decides and writes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from homesec.actors.base import ServiceActor
from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob, StoredDetection
from homesec.policy import batching
from homesec.policy.batching import BatchPolicy, BatchState
from homesec.settings import Settings
from homesec.store import batch_state
from homesec.store.detections import uncovered_detections
from homesec.store.events import held_by_batch_events

# The tick sleeps until the open batch's deadline, but at most this long: a batch opened by an
# `add` during the sleep has a deadline the sleeping tick did not know.
DEFAULT_TICK_SECONDS = 0.5
# After a failed tick (Redis away), wait this long before the next.
ERROR_PAUSE_SECONDS = 1.0


class Batcher(ServiceActor):
    kind = "batcher"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        camera_id: str,
        *,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.camera_id = camera_id
        self.policy = BatchPolicy.from_settings(settings)
        self.tick_seconds = tick_seconds
        self._lock = asyncio.Lock()
        self._loaded = False
        self._open_batch: BatchState | None = None
        self._fast_path_fired_at: float | None = None

    async def add(self, detections: list[StoredDetection]) -> None:
        """Take newly stored detections of this camera. Idempotent: ids it already batched are
        skipped, so the Detector may call again after any failure."""
        async with self._lock:
            await self._load_once()
            fresh = await batch_state.unassigned(self.redis, self.camera_id, detections)
            if fresh and not await batch_state.has_assignments(self.redis, self.camera_id):
                fresh = await self._not_in_events(fresh)
            now = time.time()
            decision = batching.on_detections(
                self._open_batch,
                self.camera_id,
                fresh,
                now,
                self.policy,
                self._fast_path_fired_at,
            )
            fired = decision.fast_path_fired_at != self._fast_path_fired_at
            await self._save(
                decision.jobs,
                decision.state,
                assigned=[detection.detection_id for detection in fresh],
                fast_path_fired_at=decision.fast_path_fired_at if fired else None,
                now=now,
            )
            self.counters["detections"] += len(fresh)

    async def _not_in_events(self, fresh: list[StoredDetection]) -> list[StoredDetection]:
        """Without the set of batched ids (Redis lost its data), PostgreSQL says which of
        ``fresh`` a batch event holds already (a detector handing over again what it did before
        the loss): they stay out. Let in, one could open a batch whose id, made from its first
        detection, an existing event has, and the new detections in it would be taken for a
        redelivery of that event and never analysed."""
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=keys.BATCH_KEY_TTL_SECONDS)
        held = await held_by_batch_events(
            self.sessions, self.camera_id, [d.detection_id for d in fresh], since
        )
        return [d for d in fresh if d.detection_id not in held]

    async def recover_orphans(self) -> int:
        """After Redis lost its data: batch again this camera's detections of the last hour that
        no batch event holds and the open batch does not (their closed batch's job was in the
        lost queue). Events cannot double: the analyst skips detections an event already holds,
        and fast-path batch ids are deterministic. Returns how many were handed back."""
        async with self._lock:
            await self._load_once()
            open_ids = set(self._open_batch.detection_ids if self._open_batch else ())
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=keys.BATCH_KEY_TTL_SECONDS)
        found = await uncovered_detections(self.sessions, self.camera_id, since)
        orphans = [detection for detection in found if detection.detection_id not in open_ids]
        if orphans:
            self.log.warning(
                "%s: re-batching %d detections after Redis lost its data", self.name, len(orphans)
            )
            await self.add(orphans)
        self.counters["recovered"] += len(orphans)
        return len(orphans)

    async def tick(self) -> None:
        """Close the open batch if its window, idle time or size says so."""
        async with self._lock:
            await self._load_once()
            now = time.time()
            update = batching.on_tick(self._open_batch, now, self.policy)
            if update.closed:
                jobs = tuple(closed.job for closed in update.closed)
                await self._save(jobs, update.state, assigned=[], fast_path_fired_at=None, now=now)

    async def main(self) -> None:
        while not self.stopping:
            try:
                await self.tick()
                pause = self._until_next_tick()
            except Exception as exc:  # Redis away: report, and try again shortly
                self.record_error(exc)
                self.log.warning("%s: tick failed: %s", self.name, exc)
                pause = ERROR_PAUSE_SECONDS
            await asyncio.sleep(pause)

    def _until_next_tick(self) -> float:
        deadline = batching.next_deadline(self._open_batch, self.policy)
        if deadline is None:
            return self.tick_seconds
        return min(self.tick_seconds, max(0.0, deadline - time.time()))

    async def _load_once(self) -> None:
        """Resume the state a previous incarnation left in Redis (first call only)."""
        if self._loaded:
            return
        saved = await batch_state.load(self.redis, self.camera_id)
        self._open_batch = saved.open_batch
        self._fast_path_fired_at = saved.fast_path_fired_at
        self._loaded = True
        if saved.open_batch is not None:
            self.log.info(
                "%s: resumed batch %s with %d detections",
                self.name,
                saved.open_batch.batch_id,
                len(saved.open_batch.detection_ids),
            )

    async def _save(
        self,
        jobs: tuple[AnalysisJob, ...],
        open_batch: BatchState | None,
        *,
        assigned: list[int],
        fast_path_fired_at: float | None,
        now: float,
    ) -> None:
        if not jobs and not assigned and open_batch == self._open_batch:
            return  # nothing new: a redelivery of detections already batched
        await batch_state.save(
            self.redis,
            self.camera_id,
            previous=self._open_batch,
            jobs=jobs,
            open_batch=open_batch,
            assigned=assigned,
            fast_path_fired_at=fast_path_fired_at,
            fast_path_cooldown_seconds=self.policy.fast_path_cooldown_seconds,
            now=now,
        )
        self._open_batch = open_batch
        if fast_path_fired_at is not None:
            self._fast_path_fired_at = fast_path_fired_at
        fast = sum(1 for job in jobs if job.is_fast_path)
        self.counters["fast_path_jobs"] += fast
        self.counters["batches_closed"] += len(jobs) - fast

    def health_detail(self) -> dict[str, str]:
        batch = self._open_batch
        detail = {"camera_id": self.camera_id}
        if batch is not None:
            detail |= {
                "open_batch_id": batch.batch_id,
                "open_batch_size": str(len(batch.detection_ids)),
                "open_batch_age_seconds": f"{time.time() - batch.started_at:.1f}",
            }
        return detail
