"""Detector: consumes ``detection_queue``, one batched forward pass per batch of uploads.

Per batch: read up to ``DETECTOR_BATCH_SIZE`` entries; when several were waiting together, wait at
most ``DETECTOR_BATCH_WAIT_MS`` for the batch to fill (dynamic batching), while an upload found
alone goes at once (no batch is forming, and an alarm should not wait for one); decode the images
and run the engine once, both in worker threads so ``health()`` and the event loop stay responsive.
Per image: write the thumbnails; then store the batch's detections and mark its uploads done in one
transaction (:mod:`homesec.store.detections`, exactly once; image by image if the batch fails),
publish them, hand them to each camera's Batcher, and only then acknowledge the entries. So an entry
is acknowledged only when its detections are both stored and batched; a crash anywhere before leaves
it pending, and its redelivery finds the stored detections and repeats just the hand-over, which the
Batcher ignores for ids it has.

Failures are per job, retried with backoff by the :class:`StreamConsumer` and dead-lettered past
``MAX_RETRIES`` (the upload then ``failed``). Two kinds go to the dead-letter queue at once,
since retrying cannot help: a payload that is not a job, and an upload whose file is gone (a
camera never sends the same file again; a person can requeue it from the DLQ once it is back).
A camera deleted meanwhile (a foreign-key violation) is treated the same way.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import datetime as dt
import functools
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

import msgspec
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError

from homesec.actors import metrics, ray_gateway
from homesec.actors.base import ServiceActor
from homesec.actors.batcher_directory import (
    BatcherDirectory,
    BatcherUnavailable,
    RayBatcherDirectory,
)
from homesec.contract import keys
from homesec.contract.analysis import Detection
from homesec.contract.jobs import DetectionJob, StoredDetection
from homesec.contract.reports import Problem
from homesec.engines.detector import DetectorEngine, DetectorError, create_detector
from homesec.files.images import DecodedImage, decode_image, write_thumbnails
from homesec.pipeline import capture_time
from homesec.pipeline.cameras import InvalidCameraId, normalize_camera_id
from homesec.pipeline.detection_messages import detection_new_message
from homesec.pipeline.retry import RetryStep, backoff_delay, describe_error
from homesec.pipeline.scene import kept_by_house
from homesec.pipeline.text import shorten
from homesec.settings import Settings
from homesec.store import cameras as store_cameras
from homesec.store import detections as store_detections
from homesec.store import event_channel, uploads
from homesec.store.detections import ImageDetections, StoredImage
from homesec.store.outages import as_outage
from homesec.store.streams import StreamConsumer, StreamEntry
from homesec.store.telemetry import record_latencies

DEFAULT_CLAIM_IDLE_MS = 30_000
# How long one read blocks when the queue is empty; bounds how late the loop sees a stop.
IDLE_BLOCK_MS = 1_000
# While a batch fills, the queue is looked at this often. The batch wait is timed here, not by a
# blocking read: Redis times a BLOCK out only at its cron tick (10 a second by default), which
# turned the 20 ms wait into 20-100 ms, the tail of the fast path.
TOP_UP_STEP_SECONDS = 0.005
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


class MalformedJob(ValueError):
    """A queue entry that is not a detection job."""


class BatchersAway(Exception):
    """The Batchers of some cameras could not be reached: their jobs' detections are stored and
    their hand-over is held (neither acknowledged nor counted as a failed attempt)."""

    def __init__(self, errors: dict[str, BatcherUnavailable]) -> None:
        cameras = ", ".join(sorted(errors))
        first = next(iter(errors.values()))
        super().__init__(f"the batcher of {cameras} cannot be reached: {first}")
        self.cameras = sorted(errors)


# Retrying cannot help these; their jobs go to the dead-letter queue at once.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    MalformedJob,
    FileNotFoundError,
    IntegrityError,
)


def choose_device(ray_gpu_ids: Sequence[object], configured: str) -> str:
    """``cuda`` when Ray gave this actor a GPU (it points ``CUDA_VISIBLE_DEVICES`` there), else
    the configured ``DETECTOR_DEVICE``, whose ``auto`` the engine resolves: cuda if torch sees a
    GPU, else cpu."""
    return "cuda" if ray_gpu_ids else configured


class _Work(NamedTuple):
    """One job of the current batch, as far as it got."""

    entry: StreamEntry
    job: DetectionJob


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
        # The entries of the batch at hand that are neither done nor handed to the retry book:
        # held across an outage and done again once the dependency is back.
        self._held: dict[str, StreamEntry] = {}
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
        while not self.stopping:
            try:
                model = await self._load_model()
                if model is None:  # no engine yet: the uploads wait in the queue
                    await asyncio.sleep(MODEL_POLL_SECONDS)
                    continue
                # Held for an outage, the batch is done again alone; held only for a Batcher
                # that is away, new work joins it, so one camera's Batcher stalls no other's.
                if not self._held or self._batcher_problem is not None:
                    self._held |= {e.entry_id: e for e in await self._read_batch(consumer)}
                if self._held:
                    await self._process(consumer, model, list(self._held.values()))
                    self._held.clear()
                self._batcher_problem, self._batcher_tries = None, 0
            except BatchersAway as away:  # stored, not yet handed over: hold, try again
                await self._wait_for_batchers(away)
                continue
            except Exception as exc:
                outage = as_outage(exc)
                if outage is not None:  # PostgreSQL or Redis away: the batch waits for it
                    await self.wait_out(outage)
                    continue
                self.record_error(exc)
                self.log.warning("%s: round failed: %s", self.name, exc)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)

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
                    "put an RT-DETRv2 model directory where DETECTOR_MODEL points (or run "
                    "`homesec models pull` on a machine with internet); uploads wait meanwhile "
                    "and are processed once it loads"
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

    async def close(self) -> None:
        if self._engine_thread is not None:
            self._engine_thread.shutdown(wait=False)
            self._engine_thread = None
        await super().close()

    async def _read_batch(self, consumer: StreamConsumer) -> list[StreamEntry]:
        """Block for a first entry (Redis answers the moment one is added); when that read found
        several, top the batch up with new entries for at most the batch wait.

        A lone entry goes at once. Waiting for company costs every quiet-time upload (the fast
        path's alarm) the whole wait, and buys throughput only under load, when the read finds
        a backlog anyway: entries that come in during a forward pass make the next batch."""
        size = self.settings.detector_batch_size
        batch = {entry.entry_id: entry for entry in await consumer.read(size, IDLE_BLOCK_MS)}
        if len(batch) <= 1:
            return list(batch.values())
        deadline = time.monotonic() + self.settings.detector_batch_wait_ms / 1000
        while len(batch) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(remaining, TOP_UP_STEP_SECONDS))
            batch.update((e.entry_id, e) for e in await consumer.take_new(size - len(batch)))
        return list(batch.values())

    # --- one batch ----------------------------------------------------------------------------
    async def _process(
        self, consumer: StreamConsumer, model: DetectorEngine, entries: list[StreamEntry]
    ) -> None:
        work: list[_Work] = []
        for entry in entries:
            try:
                work.append(_Work(entry, _parse_job(entry)))
            except MalformedJob as exc:
                await self._failed(consumer, entry, None, exc)
        try:
            # Redelivered jobs whose detections are stored skip the model: only their
            # hand-over is left to do. So do the uploads of a disabled camera, with none.
            stored = await store_detections.already_stored(
                self.sessions, [item.job.file_path for item in work]
            )
            stored |= {path: [] for path in await self._skip_disabled(work, stored)}
        except Exception as exc:
            for item in work:
                await self._failed(consumer, item.entry, item.job, exc)
            return
        # One image, once: after Redis lost its data the watchers enqueue the ledger's queued
        # uploads again, so a batch can hold two entries of one file; both are acknowledged.
        fresh: dict[str, _Work] = {}
        for item in work:
            if item.job.file_path not in stored:
                fresh.setdefault(item.job.file_path, item)
        if fresh:
            stored |= await self._detect_and_store(consumer, model, list(fresh.values()))
        done, away = await self._hand_over(consumer, work, stored)
        await consumer.ack(done)
        for entry_id in done:
            self._held.pop(entry_id, None)
        await self._record_latency([item.job for item in work if item.entry.entry_id in done])
        if away:
            raise BatchersAway(away)

    async def _skip_disabled(
        self, work: list[_Work], stored: dict[str, list[StoredDetection]]
    ) -> list[str]:
        """The uploads of disabled cameras (the dashboard's switch): kept, their ledger rows
        ``done``, not analysed. One small query per batch."""
        pending = [item for item in work if item.job.file_path not in stored]
        cameras = {item.job.camera_id for item in pending}
        disabled = await store_cameras.disabled_among(self.sessions, cameras)
        paths = [item.job.file_path for item in pending if item.job.camera_id in disabled]
        if paths:
            async with self.sessions.begin() as session:
                await uploads.mark_done_in(session, paths, dt.datetime.now(dt.UTC))
            self.counters["skipped_disabled"] += len(paths)
        return paths

    async def _record_latency(self, jobs: list[DetectionJob]) -> None:
        """Upload accepted -> detections stored and handed over, per image, for telemetry."""
        now = dt.datetime.now(dt.UTC)
        try:
            samples = []
            for job in jobs:
                accepted = dt.datetime.fromisoformat(job.timestamp)
                if accepted.tzinfo is None:
                    accepted = accepted.replace(tzinfo=dt.UTC)
                samples.append(max(0.0, (now - accepted).total_seconds()))
            await record_latencies(self.redis, "detection", samples)
        except (ValueError, RedisError, OSError) as exc:  # a lost sample must not fail a batch
            self.log.debug("latency sample lost: %s", exc)

    async def _detect_and_store(
        self, consumer: StreamConsumer, model: DetectorEngine, work: list[_Work]
    ) -> dict[str, list[StoredDetection]]:
        """Decode, detect (one call), store; the stored detections by file path. Jobs that
        failed a step are handed to the consumer and left out."""
        ready: list[tuple[_Work, DecodedImage]] = []
        # Pillow decodes without the GIL: the images of a batch decode side by side.
        decoded = await asyncio.gather(
            *(asyncio.to_thread(self._decode_one, item) for item in work)
        )
        for item, image in zip(work, decoded, strict=True):
            if isinstance(image, BaseException):
                await self._failed(consumer, item.entry, item.job, image)
            else:
                ready.append((item, image))
        if not ready:
            return {}
        try:
            found = await self._detect(model, [image.image for _, image in ready])
        except Exception as exc:  # the engine failed the whole batch
            if len(ready) == 1:
                await self._failed(consumer, ready[0][0].entry, ready[0][0].job, exc)
                return {}
            # Image by image, so one image the engine cannot take fails alone rather than
            # spending its batch-mates' attempts with its own.
            self.log.info("%s: the engine failed a batch (%s); image by image", self.name, exc)
            ready, found = await self._detect_one_by_one(consumer, model, ready)
            if not ready:
                return {}
        # Thumbnails side by side (Pillow resizes and encodes without the GIL), then the
        # detections of every image in one transaction.
        thumbnails = await asyncio.gather(
            *(
                asyncio.to_thread(self._thumbnails_of, item.job, image, detections)
                for (item, image), detections in zip(ready, found, strict=True)
            )
        )
        images: list[tuple[_Work, ImageDetections]] = []
        for (item, image), detections, paths in zip(ready, found, thumbnails, strict=True):
            if isinstance(paths, BaseException):
                await self._failed(consumer, item.entry, item.job, paths)
                continue
            images.append(
                (
                    item,
                    ImageDetections(
                        camera_id=item.job.camera_id,
                        file_path=item.job.file_path,
                        sha256=item.job.sha256,
                        file_type=image.mime_type,
                        detections=detections,
                        thumbnail_paths=paths,
                        captured_at=capture_time.from_iso(item.job.captured_at),
                    ),
                )
            )
        return await self._store(consumer, images)

    async def _detect_one_by_one(
        self,
        consumer: StreamConsumer,
        model: DetectorEngine,
        ready: list[tuple[_Work, DecodedImage]],
    ) -> tuple[list[tuple[_Work, DecodedImage]], list[list[Detection]]]:
        kept: list[tuple[_Work, DecodedImage]] = []
        found: list[list[Detection]] = []
        for item, image in ready:
            try:
                [detections] = await self._detect(model, [image.image])
            except Exception as exc:
                await self._failed(consumer, item.entry, item.job, exc)
                continue
            kept.append((item, image))
            found.append(detections)
        return kept, found

    def _decode_one(self, item: _Work) -> DecodedImage | BaseException:
        try:
            return decode_image(item.job.file_path, self.settings.max_image_pixels)
        except Exception as exc:  # per image: one bad file must not fail the batch
            return exc

    async def _detect(self, model: DetectorEngine, images: list) -> list[list[Detection]]:
        """One forward pass for the whole batch, off the event loop."""
        started = time.perf_counter()
        found = await self._in_engine_thread(model.detect, images)
        elapsed = time.perf_counter() - started
        metrics.stage_latency("detection", elapsed)
        if len(found) != len(images):
            raise DetectorError(f"the engine answered {len(found)} images of {len(images)}")
        self.inference_seconds_total += elapsed
        self._recent_batches.append((len(images), elapsed))
        self.last_batch_size = len(images)
        self.counters["batches"] += 1
        self.counters["images"] += len(images)
        # Engines filter by the threshold already; a test engine or a future one may not. Only
        # classes a house cares about (DETECTION_OBJECT_TYPES) go on to be stored and batched.
        threshold = self.settings.detection_confidence_threshold
        classes = self.settings.detection_object_types
        return [
            [d for d in per_image if kept_by_house(d.object_type, d.confidence, threshold, classes)]
            for per_image in found
        ]

    def _thumbnails_of(
        self, job: DetectionJob, image: DecodedImage, detections: list[Detection]
    ) -> list[str | None] | BaseException:
        """Deterministic names: a retry overwrites them. Runs in a worker thread."""
        try:
            return write_thumbnails(
                image.image, detections, self.settings.thumbnail_dir, job.camera_id, job.file_path
            )
        except Exception as exc:  # a full disk fails this image, not the batch
            return exc

    async def _store(
        self, consumer: StreamConsumer, images: list[tuple[_Work, ImageDetections]]
    ) -> dict[str, list[StoredDetection]]:
        """The batch's detections in one transaction; if that fails, image by image, so one bad
        image (its camera deleted meanwhile) fails alone. Publishes what was newly stored."""
        if not images:
            return {}
        now = dt.datetime.now(dt.UTC)
        try:
            outcomes: list[StoredImage | BaseException] = list(
                await store_detections.store_images(
                    self.sessions, [image for _, image in images], now
                )
            )
        except Exception as exc:
            if as_outage(exc) is not None:
                raise  # PostgreSQL away: image by image would fail the same way
            if len(images) == 1:
                outcomes = [exc]
            else:
                self.log.info("%s: batch store failed (%s); storing image by image", self.name, exc)
                outcomes = list(
                    await asyncio.gather(
                        *(
                            store_detections.store_image(self.sessions, image, now)
                            for _, image in images
                        ),
                        return_exceptions=True,
                    )
                )
        stored: dict[str, list[StoredDetection]] = {}
        published: list[tuple[DetectionJob, list[StoredDetection]]] = []
        for (item, _image), outcome in zip(images, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                await self._failed(consumer, item.entry, item.job, outcome)
                continue
            stored[item.job.file_path] = outcome.detections
            if outcome.created:
                self.counters["detections"] += len(outcome.detections)
                metrics.detections_stored(item.job.camera_id, len(outcome.detections))
                published.append((item.job, outcome.detections))
        await self._publish(published, now)
        return stored

    async def _publish(
        self, found: list[tuple[DetectionJob, list[StoredDetection]]], detected_at: dt.datetime
    ) -> None:
        """Tell live clients, one message per image, in one round trip for the batch; best
        effort, the rows are the record."""
        messages = [
            detection_new_message(job.camera_id, job.file_path, detections, detected_at)
            for job, detections in found
            if detections
        ]
        try:
            await event_channel.publish_many(self.redis, messages)
        except Exception as exc:
            self.log.warning("%s: could not publish detections: %s", self.name, exc)

    async def _hand_over(
        self,
        consumer: StreamConsumer,
        work: list[_Work],
        stored: dict[str, list[StoredDetection]],
    ) -> tuple[list[str], dict[str, BatcherUnavailable]]:
        """Give each camera's stored detections to its Batcher, one call per camera for the
        whole batch. Returns the entries that are done, and the cameras whose Batcher could not
        be reached (their entries stay held; a Batcher that failed the call fails the job)."""
        by_camera: dict[str, list[tuple[_Work, list[StoredDetection]]]] = {}
        handed: set[str] = set()
        for item in work:
            detections = stored.get(item.job.file_path)
            if detections is not None:
                # A second entry of the same file rides along without its detections again.
                first = item.job.file_path not in handed
                handed.add(item.job.file_path)
                by_camera.setdefault(item.job.camera_id, []).append(
                    (item, detections if first else [])
                )
        done: list[str] = []
        away: dict[str, BatcherUnavailable] = {}
        for camera_id, items in by_camera.items():
            detections = [detection for _, found in items for detection in found]
            if detections:  # nothing seen: nothing for the Batcher
                try:
                    await self.batchers.add(camera_id, detections)
                except BatcherUnavailable as exc:
                    away[camera_id] = exc
                    continue
                except Exception as exc:
                    for item, _ in items:
                        await self._failed(consumer, item.entry, item.job, exc)
                    continue
            done.extend(item.entry.entry_id for item, _ in items)
        if away:
            # A camera removed or disabled meanwhile gets no Batcher again: its uploads are
            # kept and stored, with nothing left to analyse (as for a disabled camera).
            gone = set(away) - await store_cameras.enabled_among(self.sessions, set(away))
            for camera_id in gone:
                done.extend(item.entry.entry_id for item, _ in by_camera[camera_id])
                del away[camera_id]
                self.counters["skipped_disabled"] += len(by_camera[camera_id])
        return done, away

    async def _failed(
        self,
        consumer: StreamConsumer,
        entry: StreamEntry,
        job: DetectionJob | None,
        error: BaseException,
    ) -> None:
        outage = as_outage(error)
        if outage is not None:
            raise outage  # not the job's fault: the whole batch waits for the dependency
        self.record_error(error)
        self.counters["failed_attempts"] += 1
        # Held until the retry book or the dead-letter queue has it: when Redis fails that
        # step, the entry stays in the batch the loop holds across the outage.
        if isinstance(error, PERMANENT_ERRORS):
            _step, attempts, first_failed_at = consumer.retries.failed(entry, time.time())
            await consumer.dead_letter(entry, error, attempts, first_failed_at)
            retrying = False
        else:
            retrying = await consumer.failed(entry, error) is RetryStep.RETRY
        self._held.pop(entry.entry_id, None)
        if retrying:
            return
        self.counters["dead_lettered"] += 1
        if job is not None:
            try:
                await uploads.mark_failed(self.sessions, job.file_path, error)
            except Exception as exc:  # the database may be why it failed; the DLQ has the job
                self.log.warning("%s: could not mark %s failed: %s", self.name, job.file_path, exc)

    # --- reporting ------------------------------------------------------------------------------
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


def _parse_job(entry: StreamEntry) -> DetectionJob:
    try:
        job = msgspec.json.decode(entry.payload, type=DetectionJob)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise MalformedJob(f"entry {entry.entry_id} is not a detection job: {exc}") from exc
    # The camera id names the thumbnails' folder: only a normalised one may get that far.
    try:
        valid_camera = normalize_camera_id(job.camera_id) == job.camera_id
    except InvalidCameraId:
        valid_camera = False
    if not valid_camera:
        raise MalformedJob(f"entry {entry.entry_id} names no valid camera: {job.camera_id!r}")
    return job
