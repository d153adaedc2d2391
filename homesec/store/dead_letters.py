"""The dead-letter lists (``dlq:{queue}``): read them, move entries back to their stream, clear
them.

The pipeline appends failed jobs with RPUSH (as the reference implementation does), so index 0
is the oldest. A requeue XADDs the entry's ``original_job`` to the stream under the field
``job`` and removes the entry, in one Lua script that first checks the head is still the entry
read: an entry is never lost (removed but not added) nor doubled (added twice) by a concurrent
requeue or clear.
"""

from __future__ import annotations

import msgspec
import redis.asyncio as aioredis

from homesec.contract import keys
from homesec.contract.jobs import DlqEntry

# KEYS: dlq list, stream. ARGV: the head entry as read, the stream field, the job's JSON.
_MOVE_HEAD_TO_STREAM = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then
  return 0
end
redis.call('XADD', KEYS[2], '*', ARGV[2], ARGV[3])
redis.call('LPOP', KEYS[1])
return 1
"""

# A head that keeps changing under us means other requeues are running; give up, not spin.
_MAX_RACES = 10


class UnknownQueue(LookupError):
    """No such dead-letter queue."""


class RequeueRefused(RuntimeError):
    """The oldest entry cannot be requeued (not a valid entry), or the list kept changing."""


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """One entry; ``raw`` holds its text instead of ``entry`` when it is not a valid entry."""

    position: int  # 0 is the oldest, the next one a requeue takes
    entry: DlqEntry | None = None
    raw: str | None = None


class DeadLetterPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DeadLetter]
    total: int


def known_queue(queue: str) -> str:
    if queue not in keys.QUEUES:
        raise UnknownQueue(f"no dead-letter queue {queue!r}; known: {', '.join(keys.QUEUES)}")
    return queue


async def counts(redis: aioredis.Redis) -> dict[str, int]:
    """Entries in each queue's dead-letter list."""
    async with redis.pipeline(transaction=False) as pipe:
        for queue in keys.QUEUES:
            pipe.llen(keys.dlq(queue))
        lengths = await pipe.execute()
    return dict(zip(keys.QUEUES, lengths, strict=True))


def _item(position: int, raw: str) -> DeadLetter:
    try:
        return DeadLetter(position=position, entry=msgspec.json.decode(raw, type=DlqEntry))
    except msgspec.DecodeError:
        return DeadLetter(position=position, raw=raw)


async def list_entries(redis: aioredis.Redis, queue: str, start: int, limit: int) -> DeadLetterPage:
    """Entries ``start`` .. ``start + limit - 1``, oldest first; nothing is removed."""
    key = keys.dlq(known_queue(queue))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lrange(key, start, start + limit - 1)
        pipe.llen(key)
        raws, total = await pipe.execute()
    return DeadLetterPage(
        items=[_item(start + offset, raw) for offset, raw in enumerate(raws)], total=total
    )


async def _requeue_head(redis: aioredis.Redis, queue: str) -> dict | None:
    """Move the oldest entry back to its stream; its job, or None when the list is empty."""
    key = keys.dlq(queue)
    for _ in range(_MAX_RACES):
        raw = await redis.lindex(key, 0)
        if raw is None:
            return None
        item = _item(0, raw)
        if item.entry is None:
            raise RequeueRefused(
                f"the oldest entry of dlq:{queue} is not a valid dead-letter entry and cannot "
                f"be requeued; inspect it with GET /api/dlq/{queue} or clear the queue",
            )
        job = msgspec.json.encode(item.entry.original_job).decode()
        moved = await redis.eval(_MOVE_HEAD_TO_STREAM, 2, key, queue, raw, keys.STREAM_FIELD, job)
        if moved:
            return item.entry.original_job
    raise RequeueRefused(f"dlq:{queue} kept changing during the requeue; try again")


async def requeue(redis: aioredis.Redis, queue: str, *, everything: bool) -> tuple[list[dict], int]:
    """Move the oldest entry (or every entry) back to its stream; (the jobs moved, how many
    dead letters remain)."""
    known_queue(queue)
    moved: list[dict] = []
    while (job := await _requeue_head(redis, queue)) is not None:
        moved.append(job)
        if not everything:
            break
    return moved, await redis.llen(keys.dlq(queue))


async def file_paths(redis: aioredis.Redis, queue: str) -> set[str]:
    """The ``file_path`` of every job in the queue's dead-letter list (detection jobs)."""
    found = set()
    for raw in await redis.lrange(keys.dlq(known_queue(queue)), 0, -1):
        item = _item(0, raw)
        path = item.entry.original_job.get("file_path") if item.entry is not None else None
        if isinstance(path, str):
            found.add(path)
    return found


async def clear(redis: aioredis.Redis, queue: str) -> int:
    """Delete the queue's dead letters; how many there were."""
    key = keys.dlq(known_queue(queue))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.llen(key)
        pipe.delete(key)
        deleted, _ = await pipe.execute()
    return deleted
