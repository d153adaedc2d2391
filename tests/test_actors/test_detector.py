"""The Detector against a real PostgreSQL and Redis, with real Batchers in this process.

Engines: the tiny random-weight RT-DETRv2 loaded the production way where detections just have
to appear, the scripted one where a test needs a known class. A counting wrapper around either
stands at the edge of the world, to see how often the model ran and with how many images.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest
from PIL import Image
from redis.exceptions import ResponseError
from sqlalchemy import func, select, update

from homesec.actors import ray_gateway
from homesec.actors.batcher import Batcher
from homesec.actors.batcher_directory import LocalBatcherDirectory
from homesec.actors.detector import Detector
from homesec.actors.ray_gateway import create_actor
from homesec.contract import actor_names, keys
from homesec.contract.analysis import BoundingBox, Detection
from homesec.contract.errors import BatcherUnavailable
from homesec.contract.jobs import StoredDetection
from homesec.contract.messages import DetectionNewMessage
from homesec.contract.reports import ActorSpec
from homesec.engines.detector import DetectorEngine, create_detector
from homesec.models import Camera, Upload, UploadStatus
from homesec.models import Detection as DetectionRow
from homesec.settings import Settings
from homesec.store import batch_state, streams
from homesec.store.detections import ImageDetections, store_image, store_images
from homesec.store.telemetry import latency_percentiles
from tests.support.images import BLUE, GREY, RED
from tests.support.pipeline import (
    CAMERA,
    all_acknowledged,
    analysis_jobs,
    dead_letters,
    pending_count,
    pipeline_settings,
    queue_upload,
    seed_camera,
    start,
    stop,
    write_image,
)
from tests.support.settings import make_settings
from tests.support.tiny_rtdetr import build_tiny_rtdetr
from tests.support.waiting import eventually


class CountingEngine:
    """Wraps an engine and records each ``detect`` call's batch size and results."""

    def __init__(self, engine: DetectorEngine) -> None:
        self.engine = engine
        self.batch_sizes: list[int] = []
        self.results: list[list[Detection]] = []

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def device(self) -> str:
        return self.engine.device

    @property
    def fallback_reason(self) -> str | None:
        return getattr(self.engine, "fallback_reason", None)

    def describe(self) -> dict[str, str]:
        return self.engine.describe() if hasattr(self.engine, "describe") else {}

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        self.batch_sizes.append(len(images))
        found = self.engine.detect(images)
        self.results.extend(found)
        return found


class FlakyDirectory:
    """A batcher directory whose first ``failures`` hand-overs fail (``-1``: all of them)."""

    def __init__(self, inner: LocalBatcherDirectory, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.calls = 0

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        self.calls += 1
        if self.failures < 0 or self.calls <= self.failures:
            raise BatcherUnavailable("batcher restarting")
        await self.inner.add(camera_id, detections)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_rtdetr(tmp_path_factory.mktemp("models") / "tiny-rtdetr")


@pytest.fixture
async def pipeline(tmp_path, db_sessions, redis_client, migrated_database_url, redis_url):
    """Builds a Detector (and the camera's Batcher, not ticking) on this test's databases;
    stops everything at the end."""
    await seed_camera(db_sessions, tmp_path / "cameras" / CAMERA)
    running: list[tuple[Detector | Batcher, asyncio.Task | None]] = []

    class Pipeline:
        engine: CountingEngine
        batcher: Batcher

        def detector(
            self, *, directory_failures: int = 0, claim_idle_ms: int = 30_000, **overrides
        ) -> Detector:
            settings = pipeline_settings(tmp_path, **({"detector_model": "scripted"} | overrides))
            self.batcher = Batcher(
                actor_names.batcher(CAMERA), settings, migrated_database_url, redis_url, CAMERA
            )
            running.append((self.batcher, None))
            directory = LocalBatcherDirectory({CAMERA: self.batcher})
            self.directory = FlakyDirectory(directory, directory_failures)
            detector = Detector(
                actor_names.detector(0),
                settings,
                migrated_database_url,
                redis_url,
                self.directory,
                engine_factory=self._counting,
                claim_idle_ms=claim_idle_ms,
            )
            running.append((detector, start(detector)))
            return detector

        def _counting(self, settings: Settings, device: str) -> DetectorEngine:
            self.engine = CountingEngine(create_detector(settings, device))
            return self.engine

        async def queue(self, name: str, colour=RED, size=(640, 480)):
            path = tmp_path / "cameras" / CAMERA / name
            data = await asyncio.to_thread(write_image, path, colour, size)
            return await queue_upload(db_sessions, redis_client, path, data)

    yield Pipeline()
    for actor, task in reversed(running):
        await stop(actor, task)


async def detection_rows(sessions) -> list[DetectionRow]:
    async with sessions() as session:
        return list((await session.scalars(select(DetectionRow).order_by(DetectionRow.id))).all())


async def uploads_by_path(sessions) -> dict[str, Upload]:
    async with sessions() as session:
        return {upload.file_path: upload for upload in (await session.scalars(select(Upload)))}


async def assigned_ids(redis) -> list[int]:
    return sorted(int(i) for i in await redis.zrange(keys.batched_detections(CAMERA), 0, -1))


def thumbnail_files(settings_dir: Path) -> list[Path]:
    return sorted((settings_dir / "thumbnails" / CAMERA).glob("*.jpg"))


async def test_a_batch_of_uploads_takes_one_forward_pass_and_reaches_the_batcher(
    pipeline, tiny_model_dir, tmp_path, db_sessions, redis_client
):
    jobs = [await pipeline.queue(f"snap_{i}.jpg", size=(640 - 80 * i, 480)) for i in range(4)]
    messages = redis_client.pubsub()
    await messages.subscribe(keys.SECURITY_EVENTS)
    detector = pipeline.detector(
        detector_model=str(tiny_model_dir),
        # PyTorch: the tiny model's tied scores give the same boxes in every run there.
        detector_engine="torch",
        detector_batch_size=4,
        detection_confidence_threshold=0.6,
    )

    await eventually(lambda: _all_done(db_sessions, 4), timeout=15.0, what="four uploads done")
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the entries acknowledged"
    )

    assert pipeline.engine.batch_sizes == [4]  # one forward pass for the whole batch
    rows = await detection_rows(db_sessions)
    # Confident enough and of a class a house cares about (DETECTION_OBJECT_TYPES' default).
    house = make_settings_default_classes()
    expected = [
        d
        for found in pipeline.engine.results
        for d in found
        if d.confidence >= 0.6 and d.object_type in house
    ]
    assert rows and len(rows) == len(expected)
    assert {row.object_type for row in rows} <= set(house)
    assert all(row.confidence >= 0.6 for row in rows)
    assert {row.file_path for row in rows} <= {job.file_path for job in jobs}
    for row in rows:
        assert row.camera_id == CAMERA and row.file_type == "image/jpeg"
        assert row.detected_at is not None and row.bbox_width > 0 and row.bbox_height > 0
        with Image.open(row.thumbnail_path) as thumbnail:
            assert thumbnail.format == "JPEG"
            assert thumbnail.width <= 320 and thumbnail.height <= 240
    assert len(thumbnail_files(tmp_path)) == len(rows)
    for upload in (await uploads_by_path(db_sessions)).values():
        assert upload.status == UploadStatus.DONE and upload.attempts == 1
        assert upload.processed_at is not None and upload.error is None

    ids = [row.id for row in rows]
    assert await assigned_ids(redis_client) == ids
    saved = await batch_state.load(redis_client, CAMERA)
    assert saved.open_batch is not None and sorted(saved.open_batch.detection_ids) == ids

    published = await _published_detection_ids(messages, {job.file_path for job in jobs}, len(rows))
    assert sorted(published) == ids
    health = await detector.health()
    assert health.state == "running"
    assert health.detail["engine"] == "rtdetr"
    assert health.detail["device"] == pipeline.engine.device
    assert health.detail["last_batch_size"] == "4"
    assert float(health.detail["inference_fps"]) > 0
    assert health.counters["images"] == 4 and health.counters["batches"] == 1
    assert health.counters["detections"] == len(rows)
    latency = await latency_percentiles(redis_client, "detection")
    assert latency.count == 4 and 0 <= latency.p50 <= latency.p99 < 60


async def test_on_a_machine_without_cuda_the_detector_runs_openvino_and_says_so(
    pipeline, tiny_model_dir, db_sessions, redis_client
):
    await pipeline.queue("snap.jpg")
    detector = pipeline.detector(detector_model=str(tiny_model_dir))  # DETECTOR_ENGINE=auto

    # The first start converts the model for OpenVINO (seconds), then the upload goes through.
    await eventually(lambda: _all_done(db_sessions, 1), timeout=120, what="the upload done")
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the entry acknowledged"
    )
    health = await detector.health()
    assert health.detail["engine"] == pipeline.engine.name == "rtdetr-openvino"
    assert health.detail["device"] == "cpu"
    assert health.detail["runtime"].startswith("openvino ")
    # DETECTOR_PRECISION=auto: bf16 where the CPU computes it natively and the guard found it
    # sees what f32 sees on the camera's image (the tiny model's bf16 drift is ~0.003), else f32.
    from homesec.engines.detector.rtdetr_openvino import cpu_has_bf16

    expected = (
        ("bf16", "checked: bf16 agrees with f32 on 1 image")
        if cpu_has_bf16()
        else ("f32", "exact (this CPU has no native bf16)")
    )
    assert (health.detail["precision"], health.detail["precision_check"]) == expected
    assert not health.problems  # no fallback to the slower engine


async def test_when_openvino_fails_the_detector_runs_on_pytorch_and_health_says_why(
    pipeline, tiny_model_dir, db_sessions, monkeypatch
):
    from homesec.engines.detector import factory

    def broken(settings, model_ref):
        raise RuntimeError("conversion ran out of memory")

    monkeypatch.setattr(factory, "_create_openvino", broken)  # the edge: OpenVINO itself
    await pipeline.queue("snap.jpg")
    detector = pipeline.detector(detector_model=str(tiny_model_dir))

    await eventually(lambda: _all_done(db_sessions, 1), timeout=120, what="the upload done")
    health = await detector.health()
    assert health.detail["engine"] == "rtdetr"
    [problem] = health.problems
    assert problem.summary.startswith("detecting on the slower engine: OpenVINO failed")
    assert "conversion ran out of memory" in problem.summary
    assert "DETECTOR_ENGINE=torch" in problem.remedy


async def test_a_redelivered_job_stores_nothing_twice(
    pipeline, tmp_path, db_sessions, redis_client
):
    job = await pipeline.queue("person.jpg", RED)
    await pipeline.queue("nothing.jpg", GREY)
    # The first hand-over fails after the commit, as if the Batcher were restarting: the entry
    # stays pending, is retried, finds its detections stored and only hands them over.
    pipeline.detector(directory_failures=1, max_retries=2)
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the retried entry acknowledged"
    )

    [row] = await detection_rows(db_sessions)
    assert row.object_type == "person"
    assert await assigned_ids(redis_client) == [row.id]
    assert pipeline.directory.calls == 2
    assert len(thumbnail_files(tmp_path)) == 1

    # The same job again (a requeue): the model does not run, nothing new is stored or batched.
    await streams.enqueue(redis_client, keys.DETECTION_QUEUE, job)
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the requeued job acknowledged"
    )
    assert pipeline.engine.batch_sizes == [2]
    assert [r.id for r in await detection_rows(db_sessions)] == [row.id]
    assert await assigned_ids(redis_client) == [row.id]
    assert len(thumbnail_files(tmp_path)) == 1
    upload = (await uploads_by_path(db_sessions))[job.file_path]
    assert upload.status == UploadStatus.DONE and upload.attempts == 1
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 0


async def test_uploads_queued_during_the_batch_wait_join_the_batch(
    pipeline, db_sessions, redis_client
):
    """Uploads found together wait for company: those queued while the detector waits for its
    batch to fill join the batch, and a full batch goes at once rather than at the end of the
    (here long) wait. (How precisely a short wait is kept is measured by bench/pipeline.py.)"""
    for index in range(2):
        await pipeline.queue(f"first_{index}.jpg", RED)
    pipeline.detector(detector_batch_size=4, detector_batch_wait_ms=60_000)

    async def first_delivered() -> bool:
        try:
            return await pending_count(redis_client) == 2
        except ResponseError:  # the detector has not made its group yet
            return False

    await eventually(first_delivered, timeout=15.0, what="the first uploads handed to the detector")
    for index in range(2):
        await pipeline.queue(f"then_{index}.jpg", RED)
    await eventually(lambda: _all_done(db_sessions, 4), timeout=30, what="four uploads done")
    assert pipeline.engine.batch_sizes == [4]


async def test_a_lone_upload_does_not_wait_for_a_batch(pipeline, db_sessions):
    """One upload found alone goes through at once: with a 60 s batch wait it is done well
    before the wait would end."""
    await pipeline.queue("alone.jpg", RED)
    pipeline.detector(detector_batch_size=4, detector_batch_wait_ms=60_000)
    await eventually(lambda: _all_done(db_sessions, 1), timeout=30, what="the upload done")
    assert pipeline.engine.batch_sizes == [1]


async def test_two_entries_of_one_file_in_a_batch_store_it_once(
    pipeline, tmp_path, db_sessions, redis_client
):
    """After Redis lost its data the watchers enqueue queued uploads again: one batch can hold
    two entries of one file. It is detected and stored once, and both entries acknowledged."""
    job = await pipeline.queue("person.jpg", RED)
    await streams.enqueue(redis_client, keys.DETECTION_QUEUE, job)
    pipeline.detector()
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="both entries acknowledged"
    )

    [row] = await detection_rows(db_sessions)
    assert pipeline.engine.batch_sizes == [1]
    assert await assigned_ids(redis_client) == [row.id]
    assert len(thumbnail_files(tmp_path)) == 1
    upload = (await uploads_by_path(db_sessions))[job.file_path]
    assert upload.status == UploadStatus.DONE
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 0


async def test_a_disabled_cameras_uploads_are_kept_but_not_analysed(
    pipeline, tmp_path, db_sessions, redis_client
):
    async with db_sessions.begin() as session:
        await session.execute(update(Camera).where(Camera.id == CAMERA).values(enabled=False))
    job = await pipeline.queue("person.jpg", RED)
    detector = pipeline.detector()
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the entry acknowledged"
    )

    assert await detection_rows(db_sessions) == []
    assert pipeline.engine.batch_sizes == []  # the model never ran
    assert await asyncio.to_thread(Path(job.file_path).exists)  # kept
    upload = (await uploads_by_path(db_sessions))[job.file_path]
    assert upload.status == UploadStatus.DONE and upload.error is None
    assert pipeline.directory.calls == 0  # nothing for the Batcher
    assert (await detector.health()).counters["skipped_disabled"] == 1

    # Enabled again: the next upload is analysed.
    async with db_sessions.begin() as session:
        await session.execute(update(Camera).where(Camera.id == CAMERA).values(enabled=True))
    await pipeline.queue("person2.jpg", RED)
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the second entry acknowledged"
    )
    [row] = await detection_rows(db_sessions)
    assert row.object_type == "person" and row.file_path.endswith("person2.jpg")


async def test_a_batcher_that_stays_away_holds_the_hand_over_and_dead_letters_nothing(
    pipeline, db_sessions, redis_client
):
    # Issue 19's bug: with the Batcher away longer than the retries, the job went to the
    # dead-letter queue and its `done` upload was flipped to `failed`. Away is an outage: hold.
    job = await pipeline.queue("person.jpg", RED)
    detector = pipeline.detector(directory_failures=-1, max_retries=1)

    await eventually(
        lambda: _calls_at_least(pipeline.directory, 4), timeout=15.0, what="four hand-over tries"
    )
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 0
    assert await pending_count(redis_client) == 1  # held: neither acknowledged nor dropped
    assert (await uploads_by_path(db_sessions))[job.file_path].status == UploadStatus.DONE
    [row] = await detection_rows(db_sessions)  # stored once, and kept
    assert pipeline.engine.batch_sizes == [1]  # the tries hand over; the model ran once
    health = await detector.health()
    [problem] = health.problems
    assert "waiting for a batcher" in problem.summary and CAMERA in problem.summary
    assert "batcher restarting" in problem.summary
    assert health.counters.get("dead_lettered", 0) == 0

    # The Batcher answers again: the same ids are handed over, and the wait leaves health.
    pipeline.directory.failures = 0
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the held job handed over"
    )
    assert [r.id for r in await detection_rows(db_sessions)] == [row.id]
    assert await assigned_ids(redis_client) == [row.id]
    assert (await uploads_by_path(db_sessions))[job.file_path].status == UploadStatus.DONE
    await eventually(lambda: _no_problems(detector), timeout=15.0, what="health clean again")


async def test_while_a_batcher_is_away_new_uploads_are_still_detected(
    pipeline, db_sessions, redis_client
):
    first = await pipeline.queue("person.jpg", RED)
    pipeline.detector(directory_failures=-1)
    await eventually(
        lambda: _calls_at_least(pipeline.directory, 2), timeout=15.0, what="the hand-over held"
    )

    second = await pipeline.queue("person2.jpg", BLUE)
    await eventually(
        lambda: _upload_status(db_sessions, second.file_path, UploadStatus.DONE),
        timeout=15.0,
        what="the upload queued during the wait detected and stored",
    )
    pipeline.directory.failures = 0
    await eventually(lambda: all_acknowledged(redis_client), timeout=15.0, what="both handed over")
    rows = await detection_rows(db_sessions)
    assert {r.file_path for r in rows} == {first.file_path, second.file_path}
    assert await assigned_ids(redis_client) == sorted(r.id for r in rows)
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 0


async def test_a_camera_removed_while_its_hand_over_is_held_stalls_nothing(
    pipeline, db_sessions, redis_client
):
    job = await pipeline.queue("person.jpg", RED)
    pipeline.detector(directory_failures=-1)
    await eventually(
        lambda: _calls_at_least(pipeline.directory, 2), timeout=15.0, what="the hand-over held"
    )

    async with db_sessions.begin() as session:  # the owner switches the camera off
        await session.execute(update(Camera).where(Camera.id == CAMERA).values(enabled=False))
    await eventually(lambda: all_acknowledged(redis_client), timeout=15.0, what="the entry let go")
    assert (await uploads_by_path(db_sessions))[job.file_path].status == UploadStatus.DONE
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 0


async def _calls_at_least(directory: FlakyDirectory, count: int) -> bool:
    return directory.calls >= count


async def _no_problems(detector: Detector) -> bool:
    return not (await detector.health()).problems


async def test_a_deleted_file_and_a_garbled_entry_go_to_the_dead_letter_queue_at_once(
    pipeline, tmp_path, db_sessions, redis_client
):
    gone = await pipeline.queue("gone.jpg", RED)
    await asyncio.to_thread(Path(gone.file_path).unlink)
    await redis_client.xadd(keys.DETECTION_QUEUE, {keys.STREAM_FIELD: "not a job"})
    kept = await pipeline.queue("car.jpg", BLUE)
    pipeline.detector(max_retries=3)

    await eventually(lambda: _dead_lettered(redis_client, 2), timeout=15.0, what="two dead letters")
    await eventually(
        lambda: _upload_status(db_sessions, gone.file_path, UploadStatus.FAILED), timeout=15.0
    )
    await eventually(
        lambda: _upload_status(db_sessions, kept.file_path, UploadStatus.DONE), timeout=15.0
    )

    letters = {
        letter.original_job.get("file_path", "garbled"): letter
        for letter in await dead_letters(redis_client, keys.DETECTION_QUEUE)
    }
    assert letters[gone.file_path].attempt_count == 1  # no retries: the file will not come back
    assert "FileNotFoundError" in letters[gone.file_path].error
    assert letters["garbled"].original_job == {"raw": "not a job"}
    assert "MalformedJob" in letters["garbled"].error
    uploads = await uploads_by_path(db_sessions)
    assert "FileNotFoundError" in uploads[gone.file_path].error
    [row] = await detection_rows(db_sessions)
    assert row.object_type == "car" and row.file_path == kept.file_path
    # The upload is done when its detections are stored; the entry is acknowledged just after
    # the hand-over, a moment later on a busy machine.
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="every entry acknowledged"
    )


async def test_an_entry_abandoned_by_a_dead_consumer_is_claimed_and_processed(
    pipeline, db_sessions, redis_client
):
    job = await pipeline.queue("person.jpg", RED)
    await redis_client.xgroup_create(keys.DETECTION_QUEUE, keys.DETECTOR_GROUP, id="0")
    # A replica read it and died before acknowledging.
    taken = await redis_client.xreadgroup(
        keys.DETECTOR_GROUP, "detector:dead", {keys.DETECTION_QUEUE: ">"}, count=1
    )
    assert len(taken[0][1]) == 1
    pipeline.detector(claim_idle_ms=300)

    await eventually(
        lambda: _upload_status(db_sessions, job.file_path, UploadStatus.DONE), timeout=15.0
    )
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="the claimed entry acknowledged"
    )
    [row] = await detection_rows(db_sessions)
    assert await assigned_ids(redis_client) == [row.id]


@pytest.mark.parametrize("ledgered", [True, False], ids=["queued upload", "no upload row"])
async def test_two_replicas_storing_one_image_store_it_once(
    ledgered, db_sessions, redis_client, tmp_path
):
    await seed_camera(db_sessions, tmp_path / "cameras" / CAMERA)
    path = tmp_path / "cameras" / CAMERA / "snap.jpg"
    if ledgered:
        data = await asyncio.to_thread(write_image, path, RED)
        await queue_upload(db_sessions, redis_client, path, data)
    image = ImageDetections(
        camera_id=CAMERA,
        file_path=str(path),
        sha256=None,
        file_type="image/jpeg",
        detections=[Detection("person", 0.9, BoundingBox(0, 0, 10, 10))],
        thumbnail_paths=[None],
    )
    now = dt.datetime.now(dt.UTC)

    first, second = await asyncio.gather(
        store_image(db_sessions, image, now), store_image(db_sessions, image, now)
    )

    assert sorted([first.created, second.created]) == [False, True]
    assert first.detections == second.detections
    assert len(await detection_rows(db_sessions)) == 1
    upload = (await uploads_by_path(db_sessions))[image.file_path]
    assert upload.status == UploadStatus.DONE and upload.attempts == 1


async def test_a_batch_is_stored_in_one_call_and_an_earlier_attempt_is_read_back(
    db_sessions, redis_client, tmp_path
):
    await seed_camera(db_sessions, tmp_path / "cameras" / CAMERA)
    images = []
    for index, found in enumerate([["person"], [], ["car", "dog"]]):
        path = tmp_path / "cameras" / CAMERA / f"snap{index}.jpg"
        data = await asyncio.to_thread(write_image, path, RED)
        await queue_upload(db_sessions, redis_client, path, data)
        images.append(
            ImageDetections(
                camera_id=CAMERA,
                file_path=str(path),
                sha256=None,
                file_type="image/jpeg",
                detections=[Detection(kind, 0.9, BoundingBox(0, 0, 10, 10)) for kind in found],
                thumbnail_paths=[None] * len(found),
            )
        )
    now = dt.datetime.now(dt.UTC)
    # The first image was stored by an earlier attempt; the batch stores the other two.
    [earlier] = await store_images(db_sessions, images[:1], now)

    stored = await store_images(db_sessions, images, now)

    assert [image.created for image in stored] == [False, True, True]
    assert stored[0].detections == earlier.detections
    assert [[d.object_type for d in image.detections] for image in stored] == [
        ["person"],
        [],
        ["car", "dog"],
    ]
    rows = await detection_rows(db_sessions)
    assert sorted(d.detection_id for image in stored for d in image.detections) == [
        row.id for row in rows
    ]
    uploads = await uploads_by_path(db_sessions)
    assert all(uploads[image.file_path].status == UploadStatus.DONE for image in images)
    assert [uploads[image.file_path].attempts for image in images] == [1, 1, 1]
    with pytest.raises(ValueError, match="each file once"):
        await store_images(db_sessions, [images[1], images[1]], now)


async def test_one_image_the_database_refuses_fails_alone(
    pipeline, tmp_path, db_sessions, redis_client
):
    """A job for a camera that is not in the database (deleted meanwhile) breaks the batch's
    transaction: the batch is stored again image by image, and only that job is dead-lettered."""
    kept = [await pipeline.queue(f"car{index}.jpg", BLUE) for index in range(2)]
    orphan_path = tmp_path / "cameras" / "ghost" / "snap.jpg"
    await asyncio.to_thread(write_image, orphan_path, RED)
    orphan = msgspec.structs.replace(
        kept[0], camera_id="ghost", file_path=str(orphan_path), upload_id=None
    )
    await streams.enqueue(redis_client, keys.DETECTION_QUEUE, orphan)
    pipeline.detector(max_retries=3)

    await eventually(
        lambda: _dead_lettered(redis_client, 1), timeout=15.0, what="the orphan dead-lettered"
    )
    await eventually(
        lambda: all_acknowledged(redis_client), timeout=15.0, what="every entry handled"
    )
    for job in kept:
        await eventually(
            lambda job=job: _upload_status(db_sessions, job.file_path, UploadStatus.DONE),
            timeout=15.0,
        )
    assert pipeline.engine.batch_sizes == [3]
    [letter] = await dead_letters(redis_client, keys.DETECTION_QUEUE)
    assert letter.original_job["file_path"] == str(orphan_path)
    assert "IntegrityError" in letter.error
    assert sorted(row.file_path for row in await detection_rows(db_sessions)) == sorted(
        job.file_path for job in kept
    )


# --- conditions ------------------------------------------------------------------------------
async def _all_done(sessions, count: int) -> bool:
    async with sessions() as session:
        done = await session.scalar(
            select(func.count()).select_from(Upload).where(Upload.status == UploadStatus.DONE)
        )
    return done == count


async def _upload_status(sessions, file_path: str, status: UploadStatus) -> bool:
    async with sessions() as session:
        found = await session.scalar(select(Upload.status).where(Upload.file_path == file_path))
    return found == status


async def _dead_lettered(redis, count: int) -> bool:
    return await redis.llen(keys.dlq(keys.DETECTION_QUEUE)) >= count


async def _published_detection_ids(messages, file_paths: set[str], count: int) -> list[int]:
    """Detection ids announced for ``file_paths``; the channel is shared by every Redis
    database, so other tests' messages pass by too."""
    ids: list[int] = []
    async with asyncio.timeout(10):
        while len(ids) < count:
            message = await messages.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or msgspec.json.decode(message["data"]).get("type") != (
                "detection.new"
            ):
                continue
            decoded = msgspec.json.decode(message["data"], type=DetectionNewMessage)
            if decoded.data.file_path in file_paths:
                # One message per image: every box in it, the most confident one up front.
                assert decoded.data.camera_id == CAMERA
                boxes = decoded.data.detections
                assert decoded.data.detection_id in {box.detection_id for box in boxes}
                assert decoded.data.confidence == max(box.confidence for box in boxes)
                assert decoded.data.objects
                ids.extend(box.detection_id for box in boxes)
    await messages.aclose()
    return ids


@pytest.mark.ray
async def test_detector_and_batcher_as_ray_actors(
    ray_cluster, tmp_path, db_sessions, redis_client, migrated_database_url, redis_url
):
    import ray

    await seed_camera(db_sessions, tmp_path / "cameras" / CAMERA)
    path = tmp_path / "cameras" / CAMERA / "person.jpg"
    data = await asyncio.to_thread(write_image, path, RED)
    await queue_upload(db_sessions, redis_client, path, data)
    settings = pipeline_settings(
        tmp_path,
        detector_model="scripted",
        batch_window_seconds=2.0,
        batch_idle_timeout_seconds=1.0,
    )
    common = {"settings": settings, "database_url": migrated_database_url, "redis_url": redis_url}
    specs = [
        ActorSpec(
            name=actor_names.batcher(CAMERA),
            kind="batcher",
            **common,
            camera_id=CAMERA,
        ),
        ActorSpec(
            name=actor_names.detector(0),
            kind="detector",
            **common,  # no batcher directory: the Ray one
            num_cpus=1,
            env_vars={"HOMESEC_TEST_WORKER_ENV": "set"},
        ),
    ]
    handles = [create_actor(spec) for spec in specs]
    try:
        # The person takes the fast path at once; its batch closes a second later (idle).
        await eventually(lambda: _analysis_job_count(redis_client, 2), timeout=30)
        [row] = await detection_rows(db_sessions)
        fast, batch = await analysis_jobs(redis_client)
        assert fast.is_fast_path and fast.detection_ids == [row.id]
        assert not batch.is_fast_path and batch.detection_ids == [row.id]
        assert await all_acknowledged(redis_client)
        detector_health = await ray_gateway.health(handles[1], 30.0)
        assert detector_health.state == "running"
        assert detector_health.detail["engine"] == "scripted"
        assert detector_health.counters["images"] == 1
        # The spec's environment reached the worker process itself (read at its start).
        environ_file = Path(f"/proc/{detector_health.detail['pid']}/environ")
        environ = await asyncio.to_thread(environ_file.read_bytes)
        assert b"HOMESEC_TEST_WORKER_ENV=set" in environ.split(b"\0")
        batcher_health = await ray_gateway.health(handles[0], 30.0)
        assert batcher_health.counters["fast_path_jobs"] == 1
        assert batcher_health.counters["batches_closed"] == 1
    finally:
        for handle in handles:
            ray.kill(handle, no_restart=True)


async def _analysis_job_count(redis, count: int) -> bool:
    return len(await analysis_jobs(redis)) >= count


async def test_a_poison_image_fails_alone_not_its_batch_mates(pipeline, db_sessions, redis_client):
    good = [await pipeline.queue(f"good_{i}.jpg", colour=RED) for i in range(2)]
    poison = await pipeline.queue("poison.jpg", colour=(0, 255, 0))  # the engine raises on it
    detector = pipeline.detector(detector_batch_size=4, detector_batch_wait_ms=300)

    async def settled() -> bool:
        uploads = await uploads_by_path(db_sessions)
        return all(uploads[job.file_path].status in ("done", "failed") for job in [*good, poison])

    await eventually(settled, timeout=30, what="every upload done or failed")
    uploads = await uploads_by_path(db_sessions)
    assert [uploads[job.file_path].status for job in good] == ["done", "done"]
    assert uploads[poison.file_path].status == "failed"
    assert "cannot take this image" in uploads[poison.file_path].error
    # The good images were never failed attempts: only the poison one spent its retries.
    assert detector.counters["failed_attempts"] == 1 + detector.settings.max_retries


def make_settings_default_classes() -> tuple[str, ...]:
    return make_settings().detection_object_types
