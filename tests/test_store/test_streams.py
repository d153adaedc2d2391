"""Redis Streams as work queues: delivery, acknowledgement, retries, dead letters, reclaiming."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from homesec.contract import keys
from homesec.contract.jobs import DetectionJob
from homesec.policy.retry import RetryBook, RetryStep
from homesec.store.redis_client import create_redis
from homesec.store.streams import StreamConsumer, StreamEntry, enqueue

STREAM = "detection_queue"


@pytest.fixture(params=["server", "embedded"])
async def redis_client(request, redis_url):
    """Each test on the Redis server of the test session and on the embedded Redis (6.2),
    whose replies differ (XAUTOCLAIM answers two items there, three on Redis 7)."""
    url = redis_url if request.param == "server" else request.getfixturevalue("embedded_redis_url")
    client = create_redis(url)
    await client.flushdb()
    yield client
    await client.aclose()


GROUP = "detectors"


def job(name: str) -> DetectionJob:
    return DetectionJob(camera_id="cam", file_path=f"/c/cam/{name}.jpg", timestamp="2025-01-01")


def consumer(redis, name: str = "c1", **options) -> StreamConsumer:
    return StreamConsumer(
        redis, STREAM, GROUP, name, max_retries=options.pop("max_retries", 2), **options
    )


async def pending_count(redis) -> int:
    return (await redis.xpending(STREAM, GROUP))["pending"]


async def test_entries_are_delivered_once_and_leave_when_acknowledged(redis_client):
    reader = consumer(redis_client)
    await reader.ensure_group()
    for name in ("a", "b", "c"):
        await enqueue(redis_client, STREAM, job(name))
    entries = await reader.read(count=10, block_ms=100)
    assert [msgspec.json.decode(e.payload, type=DetectionJob).file_path for e in entries] == [
        "/c/cam/a.jpg",
        "/c/cam/b.jpg",
        "/c/cam/c.jpg",
    ]
    assert await reader.read(count=10, block_ms=50) == []  # nothing is handed out twice
    assert await pending_count(redis_client) == 3
    await reader.ack([entry.entry_id for entry in entries])
    assert await pending_count(redis_client) == 0


async def test_failures_retry_with_backoff_then_go_to_the_dead_letter_queue(redis_client):
    reader = consumer(redis_client, max_retries=2)
    reader.retries.base_delay = 0.05
    await enqueue(redis_client, STREAM, job("bad"))
    first = (await reader.read(count=1, block_ms=100))[0]
    assert await reader.failed(first, RuntimeError("detector unavailable")) is RetryStep.RETRY
    again = await reader.read(count=1, block_ms=1000)  # the retry comes back when due
    assert [entry.entry_id for entry in again] == [first.entry_id]
    assert await reader.failed(again[0], RuntimeError("detector unavailable")) is RetryStep.RETRY
    last = await reader.read(count=1, block_ms=1000)
    step = await reader.failed(last[0], RuntimeError("detector unavailable"))
    assert step is RetryStep.DEAD_LETTER
    letters = await redis_client.lrange(keys.dlq(STREAM), 0, -1)
    assert len(letters) == 1
    letter = msgspec.json.decode(letters[0])
    assert letter["original_job"]["file_path"] == "/c/cam/bad.jpg"
    assert letter["error"] == "RuntimeError: detector unavailable"
    assert letter["attempt_count"] == 3
    assert letter["queue_name"] == STREAM
    assert letter["first_failed_at"] <= letter["last_failed_at"]
    assert await pending_count(redis_client) == 0, "a dead letter is acknowledged"
    assert await reader.read(count=1, block_ms=50) == []


async def test_entries_of_a_dead_consumer_are_claimed_again(redis_client):
    dead = consumer(redis_client, "dead")
    await enqueue(redis_client, STREAM, job("orphan"))
    taken = await dead.read(count=1, block_ms=100)
    assert len(taken) == 1  # read, never acknowledged: its consumer died
    survivor = consumer(redis_client, "survivor", claim_idle_ms=100)
    await asyncio.sleep(0.2)
    claimed = await survivor.read(count=5, block_ms=50)
    assert [entry.entry_id for entry in claimed] == [taken[0].entry_id]
    assert claimed[0].deliveries == 2
    await survivor.ack([claimed[0].entry_id])
    assert await pending_count(redis_client) == 0


async def test_own_waiting_retries_are_not_claimed_as_abandoned(redis_client):
    reader = consumer(redis_client, claim_idle_ms=1)
    reader.retries.base_delay = 30  # a long wait: the entry stays pending and idle
    await enqueue(redis_client, STREAM, job("slow"))
    entry = (await reader.read(count=1, block_ms=100))[0]
    await reader.failed(entry, "boom")
    await asyncio.sleep(0.05)
    assert await reader.read(count=5, block_ms=20) == []


async def test_a_flushed_redis_gets_its_group_back(redis_client):
    reader = consumer(redis_client)
    await reader.ensure_group()
    await redis_client.flushdb()
    assert await reader.read(count=1, block_ms=10) == []  # NOGROUP noticed, not raised
    await enqueue(redis_client, STREAM, job("after-flush"))
    entries = await reader.read(count=1, block_ms=100)
    assert len(entries) == 1


async def test_take_new_hands_out_only_undelivered_entries_without_blocking(redis_client):
    reader = consumer(redis_client)
    assert await reader.take_new(5) == []  # makes the group; an empty queue answers at once
    await enqueue(redis_client, STREAM, job("a"))
    [first] = await reader.read(count=1, block_ms=100)
    await reader.failed(first, "boom")  # pending, its retry due at once
    for name in ("b", "c", "d"):
        await enqueue(redis_client, STREAM, job(name))
    taken = await reader.take_new(2)
    names = [msgspec.json.decode(e.payload, type=DetectionJob).file_path for e in taken]
    assert names == ["/c/cam/b.jpg", "/c/cam/c.jpg"]  # not the pending retry of "a"
    [last] = await reader.take_new(5)
    assert msgspec.json.decode(last.payload, type=DetectionJob).file_path == "/c/cam/d.jpg"
    assert await reader.take_new(5) == []
    await redis_client.flushdb()
    assert await reader.take_new(1) == []  # NOGROUP noticed, not raised
    await enqueue(redis_client, STREAM, job("after-flush"))
    assert len(await reader.take_new(1)) == 1


def test_retry_book_counts_attempts_including_earlier_deliveries():
    book = RetryBook(max_retries=3, base_delay=1.0, cap=1.0)
    redelivered = StreamEntry("1-0", "{}", deliveries=3)  # two attempts by a consumer that died
    step, attempts, first = book.failed(redelivered, now=100.0)
    assert (step, attempts, first) == (RetryStep.RETRY, 3, 100.0)
    assert book.due(now=100.0, limit=5) == [] or book.next_due_in(100.0) == 0.0
    assert book.due(now=101.0, limit=5) == [redelivered]
    step, attempts, first = book.failed(redelivered, now=102.0)
    assert (step, attempts, first) == (RetryStep.DEAD_LETTER, 4, 100.0)
    assert "1-0" not in book and book.next_due_in(102.0) is None


@pytest.mark.parametrize("max_retries", [0, 1])
def test_retry_book_with_few_retries(max_retries):
    book = RetryBook(max_retries=max_retries)
    step, attempts, _ = book.failed(StreamEntry("1-0", "{}"), now=0.0)
    assert attempts == 1
    assert step is (RetryStep.RETRY if max_retries else RetryStep.DEAD_LETTER)


async def test_a_restarted_consumer_takes_back_its_own_pending_entries_at_once(redis_client):
    before = consumer(redis_client, "detector:0")
    await enqueue(redis_client, STREAM, job("interrupted"))
    taken = await before.read(count=1, block_ms=100)
    assert len(taken) == 1  # then the actor died before acknowledging
    after = consumer(redis_client, "detector:0")  # same name, fresh object, long claim idle
    again = await after.read(count=5, block_ms=50)
    assert [entry.entry_id for entry in again] == [taken[0].entry_id]
    assert again[0].deliveries == 2
    await after.ack([again[0].entry_id])
    assert await after.read(count=5, block_ms=20) == []


async def test_acknowledged_and_dead_lettered_entries_leave_the_stream(redis_client):
    reader = consumer(redis_client, max_retries=0)
    for name in ("a", "b"):
        await enqueue(redis_client, STREAM, job(name))
    first, second = await reader.read(count=2, block_ms=100)
    await reader.ack([first.entry_id])
    await reader.failed(second, "permanent")
    assert await redis_client.xlen(STREAM) == 0, "XLEN is the backlog, not the history"
