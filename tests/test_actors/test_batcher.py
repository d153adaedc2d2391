"""The Batcher against a real Redis: idle, window and cap closing, fast path, resume, redelivery."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from homesec.actors.batcher import Batcher
from homesec.contract import actor_names, keys
from homesec.contract.jobs import StoredDetection
from homesec.policy.batching import batch_id_for, fast_path_batch_id
from homesec.store import batch_state
from tests.support.pipeline import CAMERA, analysis_jobs, pipeline_settings, start, stop
from tests.support.waiting import eventually


def car(detection_id: int) -> StoredDetection:
    return StoredDetection(detection_id, "car", 0.8)


def person(detection_id: int, confidence: float = 0.95) -> StoredDetection:
    return StoredDetection(detection_id, "person", confidence)


@pytest.fixture
async def make_batcher(tmp_path, redis_client, migrated_database_url, redis_url):
    """Batchers of one camera on this test's Redis (window 2 s, idle 1 s unless overridden),
    all stopped at the end."""
    made: list[tuple[Batcher, asyncio.Task | None]] = []

    def make(*, run: bool = True, **overrides) -> Batcher:
        overrides = {"batch_window_seconds": 2.0, "batch_idle_timeout_seconds": 1.0} | overrides
        batcher = Batcher(
            actor_names.batcher(CAMERA),
            pipeline_settings(tmp_path, **overrides),
            migrated_database_url,
            redis_url,
            CAMERA,
            tick_seconds=0.05,
        )
        made.append((batcher, start(batcher) if run else None))
        return batcher

    yield make
    for batcher, task in made:
        await stop(batcher, task)


async def job_count(redis: aioredis.Redis, expected: int) -> bool:
    return len(await analysis_jobs(redis)) >= expected


async def test_an_idle_batch_closes_into_one_analysis_job(make_batcher, redis_client):
    batcher = make_batcher()
    await batcher.add([car(1), car(2)])
    assert (await redis_client.get(keys.batch_current(CAMERA))) == batch_id_for(CAMERA, 1)

    await eventually(lambda: job_count(redis_client, 1), timeout=15.0, what="the idle close")

    [job] = await analysis_jobs(redis_client)
    assert job.batch_id == batch_id_for(CAMERA, 1)
    assert job.camera_id == CAMERA
    assert job.detection_ids == [1, 2]
    assert not job.is_fast_path
    # Closing removed the open batch from Redis, contract keys and pointer alike.
    assert await redis_client.get(keys.batch_current(CAMERA)) is None
    assert await redis_client.exists(*keys.batch_keys(job.batch_id)) == 0
    assert batcher.counters["batches_closed"] == 1
    assert batcher.health_detail() == {"camera_id": CAMERA}


async def test_a_busy_batch_closes_when_its_window_ends(make_batcher, redis_client):
    batcher = make_batcher()  # window 2 s, idle 1 s
    for detection_id in range(1, 16):  # one every 0.2 s for 3 s: never idle
        await batcher.add([car(detection_id)])
        await asyncio.sleep(0.2)
    await eventually(lambda: job_count(redis_client, 2), timeout=15.0, what="two closed batches")

    first, *rest = await analysis_jobs(redis_client)
    # Open longer than the idle timeout while detections kept coming: only the window closes
    # such a batch, and it did so within the window.
    assert 1.0 < first.ended_at - first.started_at < 2.0
    assert first.detection_ids == list(range(1, len(first.detection_ids) + 1))
    all_ids = [i for job in [first, *rest] for i in job.detection_ids]
    assert sorted(all_ids) == list(range(1, 16))  # every detection once, in some batch


async def test_a_full_batch_closes_at_once_and_the_rest_opens_the_next(make_batcher, redis_client):
    batcher = make_batcher(run=False, batch_max_detections=3)
    await batcher.add([car(i) for i in range(1, 6)])

    [job] = await analysis_jobs(redis_client)
    assert job.detection_ids == [1, 2, 3]
    saved = await batch_state.load(redis_client, CAMERA)
    assert saved.open_batch is not None
    assert saved.open_batch.batch_id == batch_id_for(CAMERA, 4)
    assert saved.open_batch.detection_ids == (4, 5)


async def test_the_fast_path_fires_once_per_cooldown_even_across_a_restart(
    make_batcher, redis_client
):
    first = make_batcher(run=False)
    await first.add([person(1)])
    await first.add([person(2, 0.99)])  # within the cooldown: no second alert
    await first.add([StoredDetection(3, "car", 0.99)])  # not a fast-path class

    [fast] = await analysis_jobs(redis_client)
    assert fast.is_fast_path
    assert fast.batch_id == fast_path_batch_id(1)
    assert fast.detection_ids == [1]
    assert first.counters["fast_path_jobs"] == 1
    await stop(first)

    restarted = make_batcher(run=False)
    await restarted.add([person(4)])
    assert len(await analysis_jobs(redis_client)) == 1  # the cooldown survived the restart
    # The fast-path detections joined the normal batch too.
    saved = await batch_state.load(redis_client, CAMERA)
    assert saved.open_batch is not None
    assert saved.open_batch.detection_ids == (1, 2, 3, 4)


async def test_a_restarted_batcher_resumes_and_closes_the_open_batch(make_batcher, redis_client):
    before = make_batcher(run=False)
    await before.add([car(1), car(2)])
    await stop(before)  # as if the actor died with its batch open

    after = make_batcher(run=False)
    await after.add([car(3)])
    assert after.health_detail()["open_batch_size"] == "3"
    task = start(after)
    await eventually(
        lambda: job_count(redis_client, 1), timeout=15.0, what="the resumed batch to close"
    )

    [job] = await analysis_jobs(redis_client)
    assert job.batch_id == batch_id_for(CAMERA, 1)
    assert job.detection_ids == [1, 2, 3]
    await stop(after, task)


async def test_redelivered_detections_join_no_second_batch(make_batcher, redis_client):
    batcher = make_batcher()
    await batcher.add([car(1), car(2)])
    await batcher.add([car(2), car(3), car(3)])  # 2 redelivered, 3 twice in one call
    await eventually(lambda: job_count(redis_client, 1), timeout=15.0, what="the batch to close")

    await batcher.add([car(1), car(3)])  # redelivered after their batch closed
    assert await redis_client.get(keys.batch_current(CAMERA)) is None

    [job] = await analysis_jobs(redis_client)
    assert job.detection_ids == [1, 2, 3]
    assert batcher.counters["detections"] == 3


async def test_a_crash_between_enqueue_and_state_write_only_repeats_the_same_job(
    make_batcher, redis_client, monkeypatch
):
    batcher = make_batcher(run=False, batch_max_detections=2)
    failing_once = [True]
    execute = aioredis.client.Pipeline.execute

    async def execute_or_fail(self, *args, **kwargs):
        if failing_once and self.is_transaction:
            failing_once.clear()
            raise ConnectionError("Redis went away mid-write")
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(aioredis.client.Pipeline, "execute", execute_or_fail)
    with pytest.raises(ConnectionError):
        await batcher.add([car(1), car(2)])  # the job is out, the state write failed
    await batcher.add([car(1), car(2)])  # the Detector retries the hand-over

    jobs = await analysis_jobs(redis_client)
    # The same batch twice under one id: the Analyst's unique events.batch_id keeps one event.
    assert [job.batch_id for job in jobs] == [batch_id_for(CAMERA, 1)] * 2
    assert all(job.detection_ids == [1, 2] for job in jobs)
    await batcher.add([car(1), car(2)])  # recorded now: a third redelivery does nothing
    assert len(await analysis_jobs(redis_client)) == 2
    assert (await batch_state.load(redis_client, CAMERA)).open_batch is None
