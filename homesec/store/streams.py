"""Redis Streams as work queues: at-least-once delivery, retries with backoff, dead letters.

A job is one stream entry holding its JSON under ``keys.STREAM_FIELD``. It stays pending in the
consumer group until its handler succeeded (then XACK) or failed past ``MAX_RETRIES`` (then it
goes to ``dlq:{stream}`` and is acknowledged in the same transaction, so it is never in both and
never in neither). Entries a dead consumer left pending are claimed again with XAUTOCLAIM.

Retries wait in this process (a :class:`RetryBook` of due times) rather than being re-added to
the stream, so the entry keeps its id and its delivery count, which also counts the attempts of a
consumer that died mid-retry.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from homesec.contract import keys
from homesec.policy.health import QueueActivity
from homesec.policy.retry import RetryBook, RetryStep, dead_letter_entry


class StreamEntry(msgspec.Struct, frozen=True):
    entry_id: str
    payload: str  # the job's JSON, as it was enqueued
    deliveries: int = 1  # how often Redis handed it out (more than 1: a redelivery)


async def enqueue(redis: aioredis.Redis, stream: str, job: msgspec.Struct) -> str:
    """XADD one job. Streams are never trimmed: back-pressure is ``QUEUE_MAX_DEPTH`` upstream."""
    return await redis.xadd(stream, _entry_fields(job))


async def enqueue_many(
    redis: aioredis.Redis, stream: str, jobs: Sequence[msgspec.Struct]
) -> list[str]:
    """XADD each job, in order, in one round trip."""
    if not jobs:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for job in jobs:
            pipe.xadd(stream, _entry_fields(job))
        return list(await pipe.execute())


def _entry_fields(job: msgspec.Struct) -> dict[str, str]:
    return {keys.STREAM_FIELD: msgspec.json.encode(job).decode()}


class StreamConsumer:
    """One consumer of one stream's consumer group."""

    def __init__(
        self,
        redis: aioredis.Redis,
        stream: str,
        group: str,
        consumer: str,
        *,
        max_retries: int,
        claim_idle_ms: int = 60_000,
        retry_base_delay: float = 0.5,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.claim_idle_ms = claim_idle_ms
        self.retries = RetryBook(max_retries, base_delay=retry_base_delay)
        self._group_ready = False
        # After a restart under the same name, our own unacknowledged entries come first.
        self._recovering_own = True

    async def ensure_group(self) -> None:
        """Create the stream and group if missing (also after Redis lost everything)."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def read(self, count: int, block_ms: int) -> list[StreamEntry]:
        """Up to ``count`` entries: due retries first, then abandoned ones, then new ones."""
        if not self._group_ready:
            await self.ensure_group()
        now = time.time()
        entries = self.retries.due(now, count)
        try:
            if self._recovering_own and len(entries) < count:
                own = await self._read_own_pending(count - len(entries))
                self._recovering_own = bool(own)
                entries += own
            if len(entries) < count:
                entries += await self._claim_abandoned(count - len(entries))
            if len(entries) < count:
                wait = block_ms
                next_retry = self.retries.next_due_in(now)
                if next_retry is not None:
                    wait = min(wait, max(1, int(next_retry * 1000)))
                entries += await self._read_new(count - len(entries), 0 if entries else wait)
            if not entries:  # the wait may have ended because a retry fell due
                entries = self.retries.due(time.time(), count)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group_ready = False  # Redis was flushed: recreate on the next read
        return entries

    async def _claim_abandoned(self, count: int) -> list[StreamEntry]:
        response = await self.redis.xautoclaim(
            self.stream, self.group, self.consumer, self.claim_idle_ms, "0-0", count=count
        )
        # Redis 7 answers (next, claimed, deleted ids); 6.2, as embedded, (next, claimed).
        claimed = response[1]
        # Our own retries are pending (and idle) too: they are ours, not abandoned.
        claimed = [
            (entry_id, fields) for entry_id, fields in claimed if entry_id not in self.retries
        ]
        if not claimed:
            return []
        deliveries = await self._delivery_counts([entry_id for entry_id, _ in claimed])
        return [
            StreamEntry(
                entry_id, (fields or {}).get(keys.STREAM_FIELD, ""), deliveries.get(entry_id, 2)
            )
            for entry_id, fields in claimed
        ]

    async def _delivery_counts(self, entry_ids: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry_id in entry_ids:
            rows = await self.redis.xpending_range(
                self.stream, self.group, min=entry_id, max=entry_id, count=1
            )
            if rows:
                counts[entry_id] = int(rows[0]["times_delivered"])
        return counts

    async def _read_own_pending(self, count: int) -> list[StreamEntry]:
        """Entries delivered to this consumer name before a restart and never acknowledged."""
        response = await self.redis.xreadgroup(
            self.group, self.consumer, {self.stream: "0"}, count=count
        )
        found = [
            (entry_id, fields)
            for _stream, messages in response or []
            for entry_id, fields in messages
            if fields and entry_id not in self.retries  # fields are None once trimmed
        ]
        deliveries = await self._delivery_counts([entry_id for entry_id, _ in found])
        return [
            StreamEntry(eid, fields.get(keys.STREAM_FIELD, ""), deliveries.get(eid, 2))
            for eid, fields in found
        ]

    async def take_new(self, count: int) -> list[StreamEntry]:
        """Up to ``count`` entries never delivered before, without blocking: what a caller that
        keeps its own clock (a short batch wait) takes between its waits. Redis ends a blocked
        read's timeout only at its cron tick (``hz``, 10 a second by default), so a 20 ms
        ``BLOCK`` can return after 100 ms; short waits are timed by the caller instead."""
        if not self._group_ready:
            await self.ensure_group()
        try:
            return await self._read_new(count, 0)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group_ready = False  # Redis was flushed: recreate on the next read
            return []

    async def _read_new(self, count: int, block_ms: int) -> list[StreamEntry]:
        response = await self.redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms or None
        )
        entries = []
        for _stream, messages in response or []:
            for entry_id, fields in messages:
                entries.append(StreamEntry(entry_id, (fields or {}).get(keys.STREAM_FIELD, "")))
        return entries

    async def ack(self, entry_ids: Sequence[str]) -> None:
        if entry_ids:
            # Delete as well: one group consumes each stream, so an acknowledged entry is history,
            # and XLEN stays the real backlog instead of growing forever.
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(self.stream, self.group, *entry_ids)
                pipe.xdel(self.stream, *entry_ids)
                await pipe.execute()
            for entry_id in entry_ids:
                self.retries.succeeded(entry_id)

    async def failed(self, entry: StreamEntry, error: BaseException | str) -> RetryStep:
        """Schedule a retry, or past ``MAX_RETRIES`` move the entry to its dead-letter queue."""
        now = time.time()
        step, attempts, first_failed_at = self.retries.failed(entry, now)
        if step is RetryStep.DEAD_LETTER:
            await self.dead_letter(entry, error, attempts, first_failed_at, now)
        return step

    async def dead_letter(
        self,
        entry: StreamEntry,
        error: BaseException | str,
        attempts: int,
        first_failed_at: float,
        now: float | None = None,
    ) -> None:
        try:
            original = msgspec.json.decode(entry.payload) if entry.payload else {}
        except msgspec.DecodeError:
            original = {"raw": entry.payload}
        letter = dead_letter_entry(
            original if isinstance(original, dict) else {"raw": original},
            error,
            attempt_count=attempts,
            first_failed_at=first_failed_at,
            last_failed_at=now or time.time(),
            queue_name=self.stream,
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(keys.dlq(self.stream), msgspec.json.encode(letter).decode())
            pipe.xack(self.stream, self.group, entry.entry_id)
            pipe.xdel(self.stream, entry.entry_id)
            await pipe.execute()
        self.retries.succeeded(entry.entry_id)


async def stream_length(redis: aioredis.Redis, stream: str) -> int:
    """Entries in the stream, acknowledged or not (0 for a stream not made yet)."""
    return int(await redis.xlen(stream))


async def entries_present(
    redis: aioredis.Redis, stream: str, entry_ids: Sequence[str]
) -> list[bool]:
    """Whether each entry is still in the stream (an analyst deletes what it acknowledges), in
    one round trip."""
    if not entry_ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for entry_id in entry_ids:
            pipe.xrange(stream, entry_id, entry_id)
        found = await pipe.execute()
    return [bool(entries) for entries in found]


async def queue_depth(redis: aioredis.Redis, stream: str, group: str) -> int:
    """Entries of ``stream`` not yet acknowledged by ``group``: the back-pressure measure.

    The detectors acknowledge entries but never delete them, so XLEN alone counts history too.
    With the group present, depth is its lag (never delivered) plus its pending (delivered, not
    acknowledged); XLEN stands in before the group exists or when Redis cannot tell the lag
    (it can't after some deletions, and Redis before 7 has none).
    """
    length = await redis.xlen(stream)
    if length == 0:
        return 0
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:  # the stream vanished in between
        return 0
    for info in groups:
        if info.get("name") == group and info.get("lag") is not None:
            return min(length, int(info["lag"]) + int(info.get("pending") or 0))
    return length


class QueueCounts(msgspec.Struct, frozen=True):
    length: int  # entries in the stream: acknowledged ones are deleted, so this is the backlog
    pending: int  # delivered to a consumer, not yet acknowledged
    dead_letters: int


async def queue_counts(redis: aioredis.Redis) -> dict[str, QueueCounts]:
    """Each queue's stream length, pending entries and dead letters; a missing stream or group
    (nothing enqueued yet) reads as 0."""
    async with redis.pipeline(transaction=False) as pipe:
        for queue in keys.QUEUES:
            pipe.xlen(queue)
            pipe.llen(keys.dlq(queue))
        counts = await pipe.execute()
    found = {}
    for index, queue in enumerate(keys.QUEUES):
        try:
            pending = int((await redis.xpending(queue, keys.QUEUE_GROUPS[queue]))["pending"])
        except ResponseError:  # NOGROUP: no stream or no group yet
            pending = 0
        found[queue] = QueueCounts(counts[2 * index], pending, counts[2 * index + 1])
    return found


async def queued_file_paths(redis: aioredis.Redis, stream: str, page: int = 1000) -> set[str]:
    """The ``file_path`` of every job in ``stream``, pending or not: what the queue holds."""
    found: set[str] = set()
    start = "-"
    while True:
        entries = await redis.xrange(stream, min=start, max="+", count=page)
        for _entry_id, fields in entries:
            try:
                job = msgspec.json.decode((fields or {}).get(keys.STREAM_FIELD, ""))
            except msgspec.DecodeError:
                continue
            if isinstance(job, dict) and isinstance(job.get("file_path"), str):
                found.add(job["file_path"])
        if len(entries) < page:
            return found
        start = "(" + entries[-1][0]  # exclusive: after the last one read


async def queue_activity(redis: aioredis.Redis, queue: str, now: float) -> QueueActivity:
    """How the queue moves: its length, its pending entries and the longest one of them has
    waited since delivery, and the age of its oldest entry (a stream id starts with the
    millisecond it was added)."""
    length = await redis.xlen(queue)
    pending = 0
    idle: float | None = None
    try:
        rows = await redis.xpending_range(
            queue, keys.QUEUE_GROUPS[queue], min="-", max="+", count=1000
        )
    except ResponseError:  # NOGROUP: no stream or no group yet
        rows = []
    if rows:
        pending = len(rows)
        idle = max(int(row["time_since_delivered"]) for row in rows) / 1000
    oldest = await redis.xrange(queue, min="-", max="+", count=1)
    age = max(0.0, now - int(oldest[0][0].split("-")[0]) / 1000) if oldest else None
    return QueueActivity(
        queue=queue,
        length=length,
        pending=pending,
        oldest_pending_idle_seconds=idle,
        oldest_entry_age_seconds=age,
    )
