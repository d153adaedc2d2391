"""Detection of a batch of uploads for the Detector: read, decode, detect, store, hand over.

One :meth:`DetectionWork.round`: read up to ``DETECTOR_BATCH_SIZE`` entries of
``detection_queue``; when several were waiting together, wait at most ``DETECTOR_BATCH_WAIT_MS``
for the batch to fill (dynamic batching), while an upload found alone goes at once (no batch is
forming, and an alarm should not wait for one). Decode the images side by side and run the engine
once; write the thumbnails; then store the batch's detections and mark its uploads done in one
transaction (:mod:`homesec.workflows.detection_store`: exactly once; image by image if the batch
fails), publish them, hand them to each camera's Batcher, and only then acknowledge the entries.
So an entry is acknowledged only when its detections are both stored and batched; a crash
anywhere before leaves it pending, and its redelivery finds the stored detections and repeats
just the hand-over, which the Batcher ignores for ids it has.

Failures are per job, retried with backoff by the :class:`StreamConsumer` and dead-lettered past
``MAX_RETRIES`` (the upload then ``failed``); some go to the dead-letter queue at once
(:func:`~homesec.policy.detection_policy.after_failure` says which). PostgreSQL or Redis being
away raises out of the round: the entries stay held and the next round does them again. A
camera's Batcher that cannot be reached is answered, not raised: those entries stay held while
new ones join them (:class:`~homesec.policy.detection_policy.BatchersAway`).

Collaborators are passed in: the engine as an async ``detect`` (the shell runs it on its
thread), the Batchers as a :class:`BatcherDirectory`, the connections, a clock, and a
:class:`Tally` that counts for the shell's health.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple, Protocol

import redis.asyncio as aioredis
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import Detection
from homesec.contract.errors import BatcherUnavailable
from homesec.contract.jobs import DetectionJob, StoredDetection
from homesec.contract.zones import Zone
from homesec.files.images import DecodedImage, decode_image, write_thumbnails
from homesec.policy import capture_time
from homesec.policy.detection_policy import (
    BatchersAway,
    MalformedJob,
    Step,
    after_failure,
    hand_over_plan,
    kept_detections,
    one_by_one_after,
    parse_job,
    read_more,
    to_detect,
)
from homesec.policy.retry import RetryStep
from homesec.policy.stationary import StationaryPolicy
from homesec.policy.zones import placed_detections
from homesec.settings import Settings
from homesec.store import camera_zones
from homesec.store import cameras as store_cameras
from homesec.store import detections as store_detections
from homesec.store.detections import ImageDetections
from homesec.store.outages import as_outage
from homesec.store.streams import StreamConsumer, StreamEntry
from homesec.workflows import detection_store

log = logging.getLogger("homesec.detector")

# How long one read blocks when the queue is empty; bounds how late the loop sees a stop.
IDLE_BLOCK_MS = 1_000
# While a batch fills, the queue is looked at this often. The batch wait is timed here, not by a
# blocking read: Redis times a BLOCK out only at its cron tick (10 a second by default), which
# turned the 20 ms wait into 20-100 ms, the tail of the fast path.
TOP_UP_STEP_SECONDS = 0.005

# One forward pass: the detections of each image, in order (the engine as the shell runs it).
Detect = Callable[[list[Image.Image]], Awaitable[list[list[Detection]]]]


class BatcherDirectory(Protocol):
    """How the workflow reaches a camera's Batcher (``actors/batcher_directory.py``)."""

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        """Give ``detections`` to the camera's Batcher; return once it has them. Raises
        :class:`BatcherUnavailable` when it cannot be reached, anything else when it failed."""
        ...


class Tally(Protocol):
    """Where the workflow reports what its shell counts in health and exports as metrics."""

    @property
    def counters(self) -> collections.Counter[str]: ...

    def record_error(self, error: BaseException | str) -> None: ...

    def detections_stored(self, camera_id: str, count: int) -> None: ...


class _Work(NamedTuple):
    """One job of the current batch."""

    entry: StreamEntry
    job: DetectionJob


class DetectionWork:
    """The Detector's work on its queue, one round at a time; it holds the entries of the batch
    at hand that are neither done nor handed to the retry book, across outages and while a
    Batcher is away."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        consumer: StreamConsumer,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        batchers: BatcherDirectory,
        detect: Detect,
        tally: Tally,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.settings = settings
        self.consumer = consumer
        self.sessions = sessions
        self.redis = redis
        self.batchers = batchers
        self.detect = detect
        self.tally = tally
        self.clock = clock
        self.stationary = StationaryPolicy.from_settings(settings)
        self._held: dict[str, StreamEntry] = {}
        self._held_for_batchers = False

    async def round(self) -> BatchersAway | None:
        """Read a batch (joining the entries held for a Batcher, not those held for an outage)
        and carry it as far as it goes. Returns the Batchers that could not be reached, whose
        entries stay held; PostgreSQL or Redis being away raises, and every entry not yet done
        stays held."""
        if read_more(holding=bool(self._held), held_for_batchers=self._held_for_batchers):
            self._held |= {entry.entry_id: entry for entry in await self._read_batch()}
        away = None
        if self._held:
            away = await self._process(list(self._held.values()))
            if away is None:
                self._held.clear()
        self._held_for_batchers = away is not None
        return away

    async def _read_batch(self) -> list[StreamEntry]:
        """Block for a first entry (Redis answers the moment one is added); when that read found
        several, top the batch up with new entries for at most the batch wait.

        A lone entry goes at once. Waiting for company costs every quiet-time upload (the fast
        path's alarm) the whole wait, and buys throughput only under load, when the read finds
        a backlog anyway: entries that come in during a forward pass make the next batch."""
        size = self.settings.detector_batch_size
        batch = {entry.entry_id: entry for entry in await self.consumer.read(size, IDLE_BLOCK_MS)}
        if len(batch) <= 1:
            return list(batch.values())
        deadline = time.monotonic() + self.settings.detector_batch_wait_ms / 1000
        while len(batch) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(remaining, TOP_UP_STEP_SECONDS))
            new = await self.consumer.take_new(size - len(batch))
            batch.update((entry.entry_id, entry) for entry in new)
        return list(batch.values())

    # --- one batch ----------------------------------------------------------------------------
    async def _process(self, entries: list[StreamEntry]) -> BatchersAway | None:
        work: list[_Work] = []
        for entry in entries:
            try:
                work.append(_Work(entry, parse_job(entry.entry_id, entry.payload)))
            except MalformedJob as exc:
                await self._failed(entry, None, exc)
        try:
            # Redelivered jobs whose detections are stored skip the model: only their
            # hand-over is left to do. So do the uploads of a disabled camera, with none.
            stored = await store_detections.already_stored(
                self.sessions, [item.job.file_path for item in work]
            )
            skipped = await detection_store.mark_disabled_done(
                self.sessions, [item.job for item in work], stored, self._now()
            )
            if skipped:
                self.tally.counters["skipped_disabled"] += len(skipped)
            stored |= {path: [] for path in skipped}
            # Read per batch, so a zone saved on the dashboard holds from the next batch on.
            zones = await camera_zones.zones_by_camera(
                self.sessions, {item.job.camera_id for item in work}
            )
        except Exception as exc:
            for item in work:
                await self._failed(item.entry, item.job, exc)
            return None
        fresh = to_detect(work, stored)
        if fresh:
            stored |= await self._detect_and_store(fresh, zones)
        done, away = await self._hand_over(work, stored)
        await self.consumer.ack(done)
        for entry_id in done:
            self._held.pop(entry_id, None)
        finished = set(done)
        await detection_store.record_latency(
            self.redis, [item.job for item in work if item.entry.entry_id in finished], self._now()
        )
        return BatchersAway.of(away) if away else None

    async def _detect_and_store(
        self, work: list[_Work], zones: dict[str, list[Zone]]
    ) -> dict[str, list[StoredDetection]]:
        """Decode, detect (one call), keep what the cameras' zones keep, write thumbnails,
        store; the stored detections by file path. Jobs that failed a step are handed to the
        retry book and left out."""
        # Pillow decodes without the GIL: the images of a batch decode side by side.
        decoded = await asyncio.gather(
            *(asyncio.to_thread(self._decode_one, item) for item in work)
        )
        ready: list[tuple[_Work, DecodedImage]] = []
        for item, image in zip(work, decoded, strict=True):
            if isinstance(image, BaseException):
                await self._failed(item.entry, item.job, image)
            else:
                ready.append((item, image))
        if not ready:
            return {}
        try:
            found = await self._detect([image.image for _, image in ready])
        except Exception as exc:  # the engine failed the whole batch
            if not one_by_one_after(len(ready)):
                await self._failed(ready[0][0].entry, ready[0][0].job, exc)
                return {}
            log.info("%s: the engine failed a batch (%s); image by image", self.name, exc)
            ready, found = await self._detect_one_by_one(ready)
            if not ready:
                return {}
        found, zone_names = self._placed(ready, found, zones)
        # Thumbnails side by side (Pillow resizes and encodes without the GIL), then the
        # detections of every image in one transaction.
        thumbnails = await asyncio.gather(
            *(
                asyncio.to_thread(self._thumbnails_of, item.job, image, detections)
                for (item, image), detections in zip(ready, found, strict=True)
            )
        )
        images: list[tuple[_Work, ImageDetections]] = []
        for (item, image), detections, paths, names in zip(
            ready, found, thumbnails, zone_names, strict=True
        ):
            if isinstance(paths, BaseException):
                await self._failed(item.entry, item.job, paths)
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
                        zones=names,
                    ),
                )
            )
        return await self._store(images)

    async def _detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        """One forward pass; only the boxes a house keeps go on to be stored and batched."""
        return kept_detections(
            await self.detect(images),
            self.settings.detection_confidence_threshold,
            self.settings.detection_object_types,
        )

    def _placed(
        self,
        ready: list[tuple[_Work, DecodedImage]],
        found: list[list[Detection]],
        zones: dict[str, list[Zone]],
    ) -> tuple[list[list[Detection]], list[list[list[str]]]]:
        """Each image's detections that its camera's zones keep (one standing only in ignored
        zones is dropped here: never stored, batched or scored), and each one's zone names."""
        kept: list[list[Detection]] = []
        names: list[list[list[str]]] = []
        for (item, image), detections in zip(ready, found, strict=True):
            placed = placed_detections(
                detections, zones.get(item.job.camera_id, []), image.image.size
            )
            self.tally.counters["ignored_in_zones"] += len(detections) - len(placed)
            kept.append([detection for detection, _ in placed])
            names.append([zone_names for _, zone_names in placed])
        return kept, names

    async def _detect_one_by_one(
        self, ready: list[tuple[_Work, DecodedImage]]
    ) -> tuple[list[tuple[_Work, DecodedImage]], list[list[Detection]]]:
        kept: list[tuple[_Work, DecodedImage]] = []
        found: list[list[Detection]] = []
        for item, image in ready:
            try:
                [detections] = await self._detect([image.image])
            except Exception as exc:
                await self._failed(item.entry, item.job, exc)
                continue
            kept.append((item, image))
            found.append(detections)
        return kept, found

    def _decode_one(self, item: _Work) -> DecodedImage | BaseException:
        try:
            return decode_image(item.job.file_path, self.settings.max_image_pixels)
        except Exception as exc:  # per image: one bad file must not fail the batch
            return exc

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
        self, images: list[tuple[_Work, ImageDetections]]
    ) -> dict[str, list[StoredDetection]]:
        """Mark what stayed put (a parked car), store the batch, publish what was newly
        stored. The stored detections by path."""
        if not images:
            return {}
        now = self._now()
        marked = await detection_store.with_stationary_marks(
            self.sessions, [image for _, image in images], now, self.stationary
        )
        self.tally.counters["stationary"] += sum(
            spot.stationary for image in marked for spot in image.spots or []
        )
        outcomes = await detection_store.store_batch(self.sessions, marked, now, self.name)
        stored: dict[str, list[StoredDetection]] = {}
        published: list[tuple[DetectionJob, list[StoredDetection]]] = []
        for (item, _image), outcome in zip(images, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                await self._failed(item.entry, item.job, outcome)
                continue
            stored[item.job.file_path] = outcome.detections
            if outcome.created:
                self.tally.counters["detections"] += len(outcome.detections)
                self.tally.detections_stored(item.job.camera_id, len(outcome.detections))
                published.append((item.job, outcome.detections))
        await detection_store.publish(self.redis, published, now, self.name)
        return stored

    async def _hand_over(
        self, work: list[_Work], stored: dict[str, list[StoredDetection]]
    ) -> tuple[list[str], dict[str, BatcherUnavailable]]:
        """Give each camera's stored detections to its Batcher, one call per camera for the
        whole batch. Returns the entries that are done, and the cameras whose Batcher could not
        be reached (their entries stay held; a Batcher that failed the call fails the job)."""
        plan = hand_over_plan(work, stored)
        done: list[str] = []
        away: dict[str, BatcherUnavailable] = {}
        for camera_id, items in plan.items():
            detections = [detection for _, found in items for detection in found]
            if detections:  # nothing seen: nothing for the Batcher
                try:
                    await self.batchers.add(camera_id, detections)
                except BatcherUnavailable as exc:
                    away[camera_id] = exc
                    continue
                except Exception as exc:
                    for item, _ in items:
                        await self._failed(item.entry, item.job, exc)
                    continue
            done.extend(item.entry.entry_id for item, _ in items)
        if away:
            # A camera removed or disabled meanwhile gets no Batcher again: its uploads are
            # kept and stored, with nothing left to analyse (as for a disabled camera).
            gone = set(away) - await store_cameras.enabled_among(self.sessions, set(away))
            for camera_id in gone:
                done.extend(item.entry.entry_id for item, _ in plan[camera_id])
                del away[camera_id]
                self.tally.counters["skipped_disabled"] += len(plan[camera_id])
        return done, away

    async def _failed(
        self, entry: StreamEntry, job: DetectionJob | None, error: BaseException
    ) -> None:
        """Hand a failed job on: to the retry book, or the dead-letter queue (its upload then
        ``failed``). A dependency being away is not the job's fault: it raises, and the whole
        batch waits for it."""
        outage = as_outage(error)
        step = after_failure(error, outage=outage is not None)
        if step is Step.HOLD:
            raise outage or error
        self.tally.record_error(error)
        self.tally.counters["failed_attempts"] += 1
        # Held until the retry book or the dead-letter queue has it: when Redis fails that
        # step, the entry stays in the batch held across the outage.
        if step is Step.DEAD_LETTER:
            _step, attempts, first_failed_at = self.consumer.retries.failed(entry, self.clock())
            await self.consumer.dead_letter(entry, error, attempts, first_failed_at)
            retrying = False
        else:
            retrying = await self.consumer.failed(entry, error) is RetryStep.RETRY
        self._held.pop(entry.entry_id, None)
        if retrying:
            return
        self.tally.counters["dead_lettered"] += 1
        if job is not None:
            await detection_store.mark_failed(self.sessions, job, error, self.name)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)
