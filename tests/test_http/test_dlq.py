"""``/api/dlq``: dead-letter queues read without removing, requeued to their streams, cleared."""

from __future__ import annotations

import json

import msgspec

from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob, DetectionJob
from homesec.policy.retry import dead_letter_entry


def detection_entry(index: int) -> str:
    job = DetectionJob(
        camera_id="front_door",
        file_path=f"/export/foscam/front_door/{index}.jpg",
        timestamp="2025-12-23T10:30:00.000000",
    )
    entry = dead_letter_entry(
        job,
        "Connection refused",
        attempt_count=3,
        first_failed_at=1.5,
        last_failed_at=9.25,
        queue_name=keys.DETECTION_QUEUE,
    )
    return msgspec.json.encode(entry).decode()


async def fill(redis_client, count: int) -> list[str]:
    entries = [detection_entry(index) for index in range(count)]
    await redis_client.rpush(keys.dlq(keys.DETECTION_QUEUE), *entries)
    return entries


async def stream_jobs(redis_client, stream: str) -> list[dict]:
    return [
        json.loads(fields[keys.STREAM_FIELD]) for _, fields in await redis_client.xrange(stream)
    ]


async def test_stats_count_both_queues(client, redis_client) -> None:
    await fill(redis_client, 3)
    await redis_client.rpush(keys.dlq(keys.ANALYSIS_QUEUE), "{}")
    stats = (await client.get("/api/dlq/stats")).json()
    assert stats == {"detection_queue": 3, "analysis_queue": 1, "total": 4}


async def test_listing_pages_without_removing(client, redis_client) -> None:
    await fill(redis_client, 5)
    page = (await client.get("/api/dlq/detection_queue", params={"start": 1, "limit": 2})).json()
    assert page["total"] == 5 and page["start"] == 1 and page["limit"] == 2
    assert [item["position"] for item in page["items"]] == [1, 2]
    first = page["items"][0]["entry"]
    assert first["original_job"]["file_path"] == "/export/foscam/front_door/1.jpg"
    assert first["error"] == "Connection refused"
    assert first["attempt_count"] == 3
    assert first["queue_name"] == "detection_queue"
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 5

    await redis_client.rpush(keys.dlq(keys.DETECTION_QUEUE), "not json")
    tail = (await client.get("/api/dlq/detection_queue", params={"start": 5})).json()
    assert tail["items"] == [{"position": 5, "entry": None, "raw": "not json"}]


async def test_requeue_moves_the_oldest_entry_back_to_its_stream(client, redis_client) -> None:
    entries = await fill(redis_client, 3)
    response = await client.post("/api/dlq/detection_queue/requeue")
    assert response.status_code == 200
    assert response.json() == {"queue": "detection_queue", "requeued": 1, "remaining": 2}
    jobs = await stream_jobs(redis_client, keys.DETECTION_QUEUE)
    assert jobs == [json.loads(entries[0])["original_job"]]
    # The job decodes as the pipeline reads it.
    msgspec.convert(jobs[0], DetectionJob)
    assert await redis_client.lrange(keys.dlq(keys.DETECTION_QUEUE), 0, -1) == entries[1:]


async def test_requeue_all_keeps_order_and_loses_nothing(client, redis_client) -> None:
    entries = await fill(redis_client, 4)
    response = await client.post("/api/dlq/detection_queue/requeue", params={"all": "true"})
    assert response.json() == {"queue": "detection_queue", "requeued": 4, "remaining": 0}
    assert await stream_jobs(redis_client, keys.DETECTION_QUEUE) == [
        json.loads(entry)["original_job"] for entry in entries
    ]
    empty = await client.post("/api/dlq/detection_queue/requeue")
    assert empty.json() == {"queue": "detection_queue", "requeued": 0, "remaining": 0}


async def test_requeue_keeps_float_precision_of_an_analysis_job(client, redis_client) -> None:
    job = AnalysisJob(
        batch_id="b1",
        camera_id="garage",
        detection_ids=[1, 2],
        started_at=1735000000.123456,
        ended_at=1735000090.654321,
    )
    entry = dead_letter_entry(
        job,
        "LLM down",
        attempt_count=4,
        first_failed_at=1.0,
        last_failed_at=2.0,
        queue_name=keys.ANALYSIS_QUEUE,
    )
    await redis_client.rpush(keys.dlq(keys.ANALYSIS_QUEUE), msgspec.json.encode(entry))
    await client.post("/api/dlq/analysis_queue/requeue")
    [requeued] = await stream_jobs(redis_client, keys.ANALYSIS_QUEUE)
    assert msgspec.convert(requeued, AnalysisJob) == job


async def test_a_malformed_head_is_refused_not_lost(client, redis_client) -> None:
    await redis_client.rpush(keys.dlq(keys.DETECTION_QUEUE), "garbage", detection_entry(1))
    response = await client.post("/api/dlq/detection_queue/requeue")
    assert response.status_code == 409
    assert "not a valid dead-letter entry" in response.json()["detail"]
    assert await redis_client.llen(keys.dlq(keys.DETECTION_QUEUE)) == 2
    assert await redis_client.exists(keys.DETECTION_QUEUE) == 0


async def test_clear_and_unknown_queues(client, redis_client) -> None:
    await fill(redis_client, 2)
    cleared = await client.delete("/api/dlq/detection_queue")
    assert cleared.status_code == 200
    assert cleared.json() == {"queue": "detection_queue", "deleted": 2}
    assert await redis_client.exists(keys.dlq(keys.DETECTION_QUEUE)) == 0
    for response in (
        await client.get("/api/dlq/other_queue"),
        await client.post("/api/dlq/dlq:detection_queue/requeue"),
        await client.delete("/api/dlq/other_queue"),
    ):
        assert response.status_code == 404
        assert "detection_queue, analysis_queue" in response.json()["detail"]


async def test_a_requeued_upload_is_queued_again_in_the_ledger(
    client, redis_client, db_sessions
) -> None:
    from sqlalchemy import select

    from homesec.models import Camera, Upload

    await fill(redis_client, 2)
    async with db_sessions.begin() as session:
        session.add(Camera(id="front_door", name="front door", folder_path="/export/foscam/fd"))
        await session.flush()
        for index in range(2):
            session.add(
                Upload(
                    camera_id="front_door",
                    file_path=f"/export/foscam/front_door/{index}.jpg",
                    status="failed",
                    error="ValueError: cannot decode",
                )
            )
    response = await client.post("/api/dlq/detection_queue/requeue")
    assert response.json()["requeued"] == 1
    async with db_sessions() as session:
        rows = dict((await session.execute(select(Upload.file_path, Upload.status))).all())
    assert rows == {
        "/export/foscam/front_door/0.jpg": "queued",  # the oldest: requeued
        "/export/foscam/front_door/1.jpg": "failed",  # still a dead letter
    }
