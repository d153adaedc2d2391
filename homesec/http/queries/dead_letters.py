"""The dead-letter lists in Redis: read them, move entries back to their stream, clear them.

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
from homesec.http.errors import Conflict, NotFound
from homesec.http.schemas.dlq import ClearResult, DlqItem, DlqPage, DlqStats, RequeueResult

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


def known_queue(queue: str) -> str:
    if queue not in keys.QUEUES:
        raise NotFound(f"no dead-letter queue {queue!r}; known: {', '.join(keys.QUEUES)}")
    return queue


async def dlq_stats(redis: aioredis.Redis) -> DlqStats:
    async with redis.pipeline(transaction=False) as pipe:
        for queue in keys.QUEUES:
            pipe.llen(keys.dlq(queue))
        detection, analysis = await pipe.execute()
    return DlqStats(detection_queue=detection, analysis_queue=analysis, total=detection + analysis)


def _item(position: int, raw: str) -> DlqItem:
    try:
        return DlqItem(position=position, entry=msgspec.json.decode(raw, type=DlqEntry))
    except msgspec.DecodeError:
        return DlqItem(position=position, raw=raw)


async def list_entries(redis: aioredis.Redis, queue: str, start: int, limit: int) -> DlqPage:
    """Entries ``start`` .. ``start + limit - 1``, oldest first; nothing is removed."""
    key = keys.dlq(known_queue(queue))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lrange(key, start, start + limit - 1)
        pipe.llen(key)
        raws, total = await pipe.execute()
    items = [_item(start + offset, raw) for offset, raw in enumerate(raws)]
    return DlqPage(queue=queue, items=items, start=start, limit=limit, total=total)


async def _requeue_head(redis: aioredis.Redis, queue: str) -> bool:
    """Move the oldest entry back to its stream; False when the list is empty."""
    key = keys.dlq(queue)
    for _ in range(_MAX_RACES):
        raw = await redis.lindex(key, 0)
        if raw is None:
            return False
        item = _item(0, raw)
        if item.entry is None:
            raise Conflict(
                f"the oldest entry of dlq:{queue} is not a valid dead-letter entry and cannot "
                f"be requeued; inspect it with GET /api/dlq/{queue} or clear the queue",
            )
        job = msgspec.json.encode(item.entry.original_job).decode()
        moved = await redis.eval(_MOVE_HEAD_TO_STREAM, 2, key, queue, raw, keys.STREAM_FIELD, job)
        if moved:
            return True
    raise Conflict(f"dlq:{queue} kept changing during the requeue; try again")


async def requeue(redis: aioredis.Redis, queue: str, *, everything: bool) -> RequeueResult:
    known_queue(queue)
    moved = 0
    while await _requeue_head(redis, queue):
        moved += 1
        if not everything:
            break
    remaining = await redis.llen(keys.dlq(queue))
    return RequeueResult(queue=queue, requeued=moved, remaining=remaining)


async def clear(redis: aioredis.Redis, queue: str) -> ClearResult:
    key = keys.dlq(known_queue(queue))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.llen(key)
        pipe.delete(key)
        deleted, _ = await pipe.execute()
    return ClearResult(queue=queue, deleted=deleted)
