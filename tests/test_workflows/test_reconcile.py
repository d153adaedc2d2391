"""The ledger reconciler on a real PostgreSQL and Redis: rows no queue holds are queued again."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import update

from homesec.contract import keys
from homesec.contract.jobs import DetectionJob
from homesec.models import Camera, Upload
from homesec.policy.retry import dead_letter_entry
from homesec.store import streams
from homesec.workflows.reconcile import requeue_stranded

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(minutes=10)


def job(path: str) -> DetectionJob:
    return DetectionJob(camera_id="yard", file_path=path, timestamp="2026-12-04T11:50:00+00:00")


async def seed(db_sessions) -> None:
    async with db_sessions.begin() as session:
        session.add(Camera(id="yard", name="yard", folder_path="/c/yard"))
        await session.flush()
        for name, status in [
            ("lost.jpg", "queued"),  # in no queue: stranded
            ("waiting.jpg", "queued"),  # still in the stream
            ("dead.jpg", "queued"),  # in the dead-letter list
            ("fresh.jpg", "queued"),  # too recent to count
            ("done.jpg", "done"),
            ("held.jpg", "processing"),  # a detector died holding it, and the stream is gone
        ]:
            session.add(Upload(camera_id="yard", file_path=f"/c/yard/{name}", status=status))
        await session.execute(
            update(Upload).where(Upload.file_path != "/c/yard/fresh.jpg").values(received_at=OLD)
        )
        await session.execute(
            update(Upload).where(Upload.file_path == "/c/yard/fresh.jpg").values(received_at=NOW)
        )


async def test_rows_that_no_queue_holds_are_queued_again_once(db_sessions, redis_client):
    await seed(db_sessions)
    await streams.enqueue(redis_client, keys.DETECTION_QUEUE, job("/c/yard/waiting.jpg"))
    letter = dead_letter_entry(
        job("/c/yard/dead.jpg"),
        "ValueError: bad",
        attempt_count=4,
        first_failed_at=1.0,
        last_failed_at=2.0,
        queue_name=keys.DETECTION_QUEUE,
    )
    await redis_client.rpush(keys.dlq(keys.DETECTION_QUEUE), msgspec.json.encode(letter))

    requeued = await requeue_stranded(
        db_sessions, redis_client, now=NOW, stranded_after_seconds=120
    )

    assert requeued == 2
    queued = sorted(
        msgspec.json.decode(fields[keys.STREAM_FIELD])["file_path"]
        for _, fields in await redis_client.xrange(keys.DETECTION_QUEUE)
    )
    assert queued == ["/c/yard/held.jpg", "/c/yard/lost.jpg", "/c/yard/waiting.jpg"]
    # Once on the queue, they are no longer stranded: a second pass adds nothing.
    assert (
        await requeue_stranded(db_sessions, redis_client, now=NOW, stranded_after_seconds=120) == 0
    )
    assert await redis_client.xlen(keys.DETECTION_QUEUE) == 3


async def test_the_stream_is_read_past_one_page(redis_client):
    jobs = [job(f"/c/yard/{index}.jpg") for index in range(25)]
    await streams.enqueue_many(redis_client, keys.DETECTION_QUEUE, jobs)
    paths = await streams.queued_file_paths(redis_client, keys.DETECTION_QUEUE, page=10)
    assert paths == {j.file_path for j in jobs}
