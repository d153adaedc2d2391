"""The watcher's Redis checks: content deduplication and the detection queue's depth."""

from __future__ import annotations

from homesec.contract import keys
from homesec.store.dedupe import claim_content, claim_contents
from homesec.store.streams import queue_depth

STREAM = keys.DETECTION_QUEUE
GROUP = keys.DETECTOR_GROUP


async def test_a_claim_names_the_first_file_with_that_content(redis_client):
    assert await claim_content(redis_client, "ab" * 32, "/c/a.jpg", 300) is None
    assert 0 < await redis_client.ttl(keys.dedupe("ab" * 32)) <= 300
    assert await claim_content(redis_client, "ab" * 32, "/c/b.jpg", 300) == "/c/a.jpg"
    # The same file again (a restart re-scanning it) is no duplicate of itself.
    assert await claim_content(redis_client, "ab" * 32, "/c/a.jpg", 300) is None
    odd = "/c/front door ünï\ncode.jpg"
    assert await claim_content(redis_client, "cd" * 32, odd, 300) is None
    assert await claim_content(redis_client, "cd" * 32, "/c/x.jpg", 300) == odd


async def test_claims_in_one_call_name_the_first_file_of_each_content(redis_client):
    await claim_content(redis_client, "ab" * 32, "/c/earlier.jpg", 300)
    claims = [
        ("ab" * 32, "/c/again.jpg"),  # claimed by an earlier call
        ("cd" * 32, "/c/first.jpg"),
        ("cd" * 32, "/c/second.jpg"),  # the same content later in this very call
        ("ef" * 32, "/c/own.jpg"),
    ]
    await claim_content(redis_client, "ef" * 32, "/c/own.jpg", 300)  # a rescan of its own file
    assert await claim_contents(redis_client, claims, 300) == [
        "/c/earlier.jpg",
        None,
        "/c/first.jpg",
        None,
    ]
    assert await redis_client.get(keys.dedupe("cd" * 32)) == "/c/first.jpg"
    assert 0 < await redis_client.ttl(keys.dedupe("cd" * 32)) <= 300
    assert await claim_contents(redis_client, [], 300) == []


async def test_depth_counts_what_the_detectors_have_not_acknowledged(redis_client):
    assert await queue_depth(redis_client, STREAM, GROUP) == 0
    for index in range(3):
        await redis_client.xadd(STREAM, {keys.STREAM_FIELD: str(index)})
    assert await queue_depth(redis_client, STREAM, GROUP) == 3  # no group yet: XLEN

    await redis_client.xgroup_create(STREAM, GROUP, id="0")
    assert await queue_depth(redis_client, STREAM, GROUP) == 3  # all still to deliver
    read = await redis_client.xreadgroup(GROUP, "d1", {STREAM: ">"}, count=2)
    assert await queue_depth(redis_client, STREAM, GROUP) == 3  # 1 waiting + 2 pending
    await redis_client.xack(STREAM, GROUP, *[entry_id for entry_id, _ in read[0][1]])
    # Acknowledged entries stay in the stream (XLEN 3) but are no longer queued work.
    assert await redis_client.xlen(STREAM) == 3
    assert await queue_depth(redis_client, STREAM, GROUP) == 1
