"""Detector: the Ray shell of the detection workflow, which consumes ``detection_queue``.

The work of a round (read a batch, decode, one forward pass, thumbnails, one transaction, publish,
hand over to each camera's Batcher, acknowledge) is :mod:`homesec.workflows.detection`; its
decisions are :mod:`homesec.policy.detection_policy`. This shell keeps what is Ray's or the
process's: building the engine (on the GPU Ray gave it) and running it on its own thread, the
main loop, waiting out a PostgreSQL or Redis outage and a Batcher that is away, health and
metrics. Without an engine (no model files yet) it says so in health, tries again now and then,
and the uploads wait in the queue.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import time
from collections.abc import Callable
from typing import TypeVar

from PIL import Image

from homesec.actors import metrics, ray_gateway
from homesec.actors.base import ServiceActor
from homesec.actors.batcher_directory import RayBatcherDirectory
from homesec.contract import keys
from homesec.contract.analysis import Detection
from homesec.contract.reports import Problem
from homesec.engines.detector import DetectorEngine, DetectorError, create_detector
from homesec.policy.detection_policy import BatchersAway, choose_device
from homesec.policy.retry import backoff_delay, describe_error
from homesec.policy.text import shorten
from homesec.settings import Settings
from homesec.store.outages import as_outage
from homesec.store.streams import StreamConsumer
from homesec.workflows.detection import BatcherDirectory, DetectionWork

DEFAULT_CLAIM_IDLE_MS = 30_000
# After a failed round (Redis away, the model failed to load), wait this long.
ERROR_PAUSE_SECONDS = 2.0
# Without an engine (no model files yet), how often to look again, and how often the loop wakes.
MODEL_RETRY_SECONDS = 10.0
MODEL_POLL_SECONDS = 1.0
# While a camera's Batcher cannot be reached, the held hand-over is tried again with backoff up
# to this pause.
BATCHER_WAIT_CAP_SECONDS = 15.0
# The engine's own description shown in health (the fallback is a problem of its own).
ENGINE_FACTS = ("runtime", "precision", "precision_check")
# inference_fps covers this many recent batches.
FPS_WINDOW_BATCHES = 20

EngineFactory = Callable[[Settings, str], DetectorEngine]
_T = TypeVar("_T")


class Detector(ServiceActor):
    kind = "detector"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        batchers: BatcherDirectory | None = None,
        *,
        engine_factory: EngineFactory = create_detector,
        claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.batchers = batchers if batchers is not None else RayBatcherDirectory()
        self.engine_factory = engine_factory
        self.claim_idle_ms = claim_idle_ms
        self.model: DetectorEngine | None = None
        self.inference_seconds_total = 0.0
        self.last_batch_size = 0
        self._recent_batches: collections.deque[tuple[int, float]] = collections.deque(
            maxlen=FPS_WINDOW_BATCHES
        )
        self._engine_thread: concurrent.futures.ThreadPoolExecutor | None = None
        # Why the engine could not be built, and when to try again (a model copied into place
        # later is picked up without a restart).
        self._model_problem: Problem | None = None
        self._next_model_attempt = 0.0
        # While a hand-over is held because a camera's Batcher cannot be reached: the problem
        # health shows, and how many tries in a row found it away (for the backoff).
        self._batcher_problem: Problem | None = None
        self._batcher_tries = 0

    # --- main loop --------------------------------------------------------------------------
    async def main(self) -> None:
        consumer = StreamConsumer(
            self.redis,
            keys.DETECTION_QUEUE,
            keys.DETECTOR_GROUP,
            self.name,
            max_retries=self.settings.max_retries,
            claim_idle_ms=self.claim_idle_ms,
            retry_base_delay=self.settings.retry_base_seconds,
        )
        work = DetectionWork(
            self.name,
            self.settings,
            consumer,
            self.sessions,
            self.redis,
            self.batchers,
            self._detect,
            self,
        )
        while not self.stopping:
            try:
                if await self._load_model() is None:  # no engine yet: the uploads wait
                    await asyncio.sleep(MODEL_POLL_SECONDS)
                    continue
                away = await work.round()
            except Exception as exc:
                outage = as_outage(exc)
                if outage is not None:  # PostgreSQL or Redis away: the batch waits for it
                    await self.wait_out(outage)
                    continue
                self.record_error(exc)
                self.log.warning("%s: round failed: %s", self.name, exc)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            if away is None:
                self._batcher_problem, self._batcher_tries = None, 0
            else:  # stored, not yet handed over: held, tried again
                await self._wait_for_batchers(away)

    async def _wait_for_batchers(self, away: BatchersAway) -> None:
        """Say in health which Batcher is awaited, then pause with backoff; the held entries
        are handed over again on the next round (their detections are stored: no model run)."""
        self._batcher_tries += 1
        since = self._batcher_problem.since if self._batcher_problem else time.time()
        self._batcher_problem = Problem(
            component=self.name,
            summary=shorten(f"waiting for a batcher: {away}"),
            remedy=(
                "the supervisor starts a batcher per camera and restarts a dead one; the "
                "detections are stored and are handed over once it answers"
            ),
            since=since,
        )
        if self._batcher_tries == 1:
            self.log.warning("%s: %s; holding the hand-over", self.name, away)
        await asyncio.sleep(backoff_delay(self._batcher_tries, 0.5, BATCHER_WAIT_CAP_SECONDS))

    # --- the engine ---------------------------------------------------------------------------
    async def _load_model(self) -> DetectorEngine | None:
        """Create the engine on first use, in a thread: loading weights takes seconds. When it
        cannot be built (no model files yet), say why in health and try again now and then."""
        if self.model is not None:
            return self.model
        if time.monotonic() < self._next_model_attempt:
            return None
        device = choose_device(ray_gateway.gpu_ids(), self.settings.detector_device)
        try:
            self.model = await self._in_engine_thread(self.engine_factory, self.settings, device)
        except Exception as exc:
            self._next_model_attempt = time.monotonic() + MODEL_RETRY_SECONDS
            if self._model_problem is None:  # once, not at every try
                self.record_error(exc)
                self.log.error("%s: no detector engine: %s", self.name, exc)
            self._model_problem = Problem(
                component=self.name,
                summary=shorten(f"no detector engine: {describe_error(exc)}"),
                remedy=(
                    "put an RT-DETRv2 model directory where DETECTOR_MODEL points: `homesec "
                    "models pull` (with internet), or `homesec models import PATH` with one "
                    "copied from another machine; uploads wait meanwhile and are processed once "
                    "it loads"
                ),
                since=self._model_problem.since if self._model_problem else time.time(),
            )
            return None
        if self._model_problem is not None:
            self.log.info(
                "%s: the detector engine loaded; processing the waiting uploads", self.name
            )
        self._model_problem = None
        self.log.info("%s: engine %s on %s", self.name, self.model.name, self.model.device)
        return self.model

    async def _in_engine_thread(self, function: Callable[..., _T], *args: object) -> _T:
        """Run ``function`` on the engine's own thread. One thread for loading and every forward
        pass: torch's OpenMP pool belongs to the thread that calls it, and calls hopping across
        the event loop's worker threads gave each a pool of its own, and a third of the
        detector's CPU time went to the kernel."""
        if self._engine_thread is None:
            self._engine_thread = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"{self.name}-engine"
            )
        return await asyncio.get_running_loop().run_in_executor(
            self._engine_thread, functools.partial(function, *args)
        )

    async def _detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        """One forward pass for the whole batch on the engine's thread, timed for health and
        metrics (the workflow's ``detect``; it runs only once the engine is loaded)."""
        assert self.model is not None
        started = time.perf_counter()
        found = await self._in_engine_thread(self.model.detect, images)
        elapsed = time.perf_counter() - started
        metrics.stage_latency("detection", elapsed)
        if len(found) != len(images):
            raise DetectorError(f"the engine answered {len(found)} images of {len(images)}")
        self.inference_seconds_total += elapsed
        self._recent_batches.append((len(images), elapsed))
        self.last_batch_size = len(images)
        self.counters["batches"] += 1
        self.counters["images"] += len(images)
        return found

    async def close(self) -> None:
        if self._engine_thread is not None:
            self._engine_thread.shutdown(wait=False)
            self._engine_thread = None
        await super().close()

    # --- reporting ------------------------------------------------------------------------------
    def detections_stored(self, camera_id: str, count: int) -> None:
        metrics.detections_stored(camera_id, count)

    @property
    def inference_fps(self) -> float:
        """Images per second of the engine alone, over the recent batches."""
        images = sum(count for count, _ in self._recent_batches)
        seconds = sum(elapsed for _, elapsed in self._recent_batches)
        return images / seconds if seconds > 0 else 0.0

    def health_problems(self) -> list[Problem]:
        own = [
            p
            for p in (self._model_problem, self._engine_fallback(), self._batcher_problem)
            if p is not None
        ]
        return [*super().health_problems(), *own]

    def _engine_fallback(self) -> Problem | None:
        """The fast engine could not be had (OpenVINO missing or its conversion failed): the
        detector runs, slower, on PyTorch, and says why."""
        reason = getattr(self.model, "fallback_reason", None)
        if not reason:
            return None
        return Problem(
            component=self.name,
            summary=shorten(f"detecting on the slower engine: {reason}"),
            remedy=(
                "install OpenVINO (pip install openvino) or fix what the reason names, then "
                "restart homesec; set DETECTOR_ENGINE=torch to choose PyTorch on purpose"
            ),
            since=self.started_at,
        )

    def health_detail(self) -> dict[str, str]:
        model = self.model
        described: dict[str, str] = {}
        if model is not None and callable(getattr(model, "describe", None)):
            # What it computes in, and whether that was checked against the model's own f32.
            facts = model.describe()
            described = {k: str(facts[k]) for k in ENGINE_FACTS if k in facts}
        return {
            **described,
            "engine": model.name if model is not None else "not loaded",
            "device": model.device if model is not None else "not loaded",
            "last_batch_size": str(self.last_batch_size),
            "inference_fps": f"{self.inference_fps:.2f}",
            "inference_seconds_total": f"{self.inference_seconds_total:.3f}",
        }
