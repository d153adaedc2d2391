"""DetectionWork on a real PostgreSQL and Redis, without Ray, an actor or a model: the engine is a
function of each image's top-left pixel, the Batchers a recording directory."""

from __future__ import annotations

from homesec.models import UploadStatus
from homesec.policy.detection_policy import BatchersAway
from tests.support.detection_work import GREEN, rows, statuses
from tests.support.images import BLUE, RED
from tests.support.pipeline import (
    CAMERA,
    all_acknowledged,
    pending_count,
)


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
