"""DetectionWork on a real PostgreSQL and Redis, without Ray, an actor or a model: the engine is a
function of each image's top-left pixel, the Batchers a recording directory."""

from __future__ import annotations

import asyncio
import collections

import pytest
from PIL import Image
from sqlalchemy import select

from homesec.contract import keys
from homesec.contract.analysis import BoundingBox, Detection
from homesec.contract.errors import BatcherUnavailable
from homesec.contract.jobs import StoredDetection
from homesec.models import Detection as DetectionRow
from homesec.models import Upload, UploadStatus
from homesec.policy.detection_policy import BatchersAway
from homesec.store.streams import StreamConsumer
from homesec.workflows.detection import DetectionWork
from tests.support.images import BLUE, RED
from tests.support.pipeline import (
    CAMERA,
    all_acknowledged,
    pending_count,
    pipeline_settings,
    queue_upload,
    seed_camera,
    write_image,
)

GREEN = (0, 255, 0)  # the engine cannot take it
KINDS = {RED: "person", BLUE: "car"}


class Engine:
    """One forward pass per call: a box of the kind the top-left pixel names."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    async def detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        self.batch_sizes.append(len(images))
        colours = [image.getpixel((0, 0)) for image in images]
        if any(_near(colour, GREEN) for colour in colours):
            raise RuntimeError("the engine cannot take this image")
        return [
            [Detection(kind, 0.9, BoundingBox(0, 0, 40, 40))]
            for colour in colours
            for kind in [next(k for c, k in KINDS.items() if _near(colour, c))]
        ]


def _near(colour, target) -> bool:  # JPEG moves colours a little
    return all(abs(a - b) < 40 for a, b in zip(colour, target, strict=True))


class Directory:
    """Records each hand-over; away while ``away`` is set."""

    def __init__(self) -> None:
        self.away = False
        self.handed: list[tuple[str, list[StoredDetection]]] = []

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        if self.away:
            raise BatcherUnavailable("batcher restarting")
        self.handed.append((camera_id, detections))


class Tally:
    def __init__(self) -> None:
        self.counters: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.stored: list[tuple[str, int]] = []

    def record_error(self, error: BaseException | str) -> None:
        self.errors.append(str(error))

    def detections_stored(self, camera_id: str, count: int) -> None:
        self.stored.append((camera_id, count))


@pytest.fixture
async def house(tmp_path, db_sessions, redis_client):
    await seed_camera(db_sessions, tmp_path / "cameras" / CAMERA)
    settings = pipeline_settings(tmp_path, detector_batch_size=4, detector_batch_wait_ms=50)

    class House:
        engine = Engine()
        directory = Directory()
        tally = Tally()
        consumer = StreamConsumer(
            redis_client,
            keys.DETECTION_QUEUE,
            keys.DETECTOR_GROUP,
            "detector:test",
            max_retries=2,
            claim_idle_ms=30_000,
            retry_base_delay=settings.retry_base_seconds,
        )
        work = DetectionWork(
            "detector:test",
            settings,
            consumer,
            db_sessions,
            redis_client,
            directory,
            engine.detect,
            tally,
        )

        async def queue(self, name: str, colour):
            path = tmp_path / "cameras" / CAMERA / name
            data = await asyncio.to_thread(write_image, path, colour)
            return await queue_upload(db_sessions, redis_client, path, data)

    return House()


async def rows(sessions) -> list[DetectionRow]:
    async with sessions() as session:
        return list((await session.scalars(select(DetectionRow).order_by(DetectionRow.id))).all())


async def statuses(sessions) -> dict[str, str]:
    async with sessions() as session:
        return {u.file_path: u.status for u in (await session.scalars(select(Upload))).all()}


async def test_a_round_detects_a_batch_in_one_pass_stores_it_and_hands_it_over(
    house, db_sessions, redis_client
):
    jobs = [await house.queue("a.jpg", RED), await house.queue("b.jpg", BLUE)]

    assert await house.work.round() is None

    assert house.engine.batch_sizes == [2]
    stored = await rows(db_sessions)
    assert [(r.file_path, r.object_type) for r in stored] == [
        (jobs[0].file_path, "person"),
        (jobs[1].file_path, "car"),
    ]
    # One call for the camera, with every detection of the batch.
    [(camera, handed)] = house.directory.handed
    assert camera == CAMERA and [d.detection_id for d in handed] == [r.id for r in stored]
    assert await all_acknowledged(redis_client)
    assert set((await statuses(db_sessions)).values()) == {UploadStatus.DONE}
    assert house.tally.counters["detections"] == 2
    assert house.tally.stored == [(CAMERA, 1), (CAMERA, 1)]
    assert not house.tally.errors


async def test_a_batcher_away_holds_the_hand_over_and_new_uploads_join_it(
    house, db_sessions, redis_client
):
    first = await house.queue("a.jpg", RED)
    house.directory.away = True

    away = await house.work.round()

    assert away == BatchersAway(cameras=[CAMERA], reason="batcher restarting")
    assert await pending_count(redis_client) == 1  # held: neither acknowledged nor failed
    assert (await statuses(db_sessions))[first.file_path] == UploadStatus.DONE
    assert house.tally.counters["failed_attempts"] == 0

    # Held for a Batcher, the next round reads new work too; the held job skips the model.
    second = await house.queue("b.jpg", BLUE)
    house.directory.away = False
    assert await house.work.round() is None
    assert house.engine.batch_sizes == [1, 1]
    assert await all_acknowledged(redis_client)
    handed = [d.detection_id for _, found in house.directory.handed for d in found]
    assert sorted(handed) == [r.id for r in await rows(db_sessions)]
    assert {r.file_path for r in await rows(db_sessions)} == {first.file_path, second.file_path}


async def test_a_batch_the_engine_fails_goes_image_by_image_and_the_poison_fails_alone(
    house, db_sessions, redis_client
):
    good = await house.queue("good.jpg", RED)
    poison = await house.queue("poison.jpg", GREEN)

    assert await house.work.round() is None

    assert house.engine.batch_sizes == [2, 1, 1]  # the batch, then each image
    assert [r.file_path for r in await rows(db_sessions)] == [good.file_path]
    assert house.tally.counters["failed_attempts"] == 1
    assert house.tally.errors == ["the engine cannot take this image"]
    # The poison job waits in the retry book; the good one is acknowledged.
    assert await pending_count(redis_client) == 1
    assert (await statuses(db_sessions))[poison.file_path] == UploadStatus.QUEUED
