"""A camera's batching state in Redis: the contract's ``batch:*`` keys plus homesec's two.

- the open batch: ``batch:{camera}:current`` and ``batch:{batch_id}:*`` (1 h TTL each);
- ``batch:{camera}:assigned``: the detection ids already given to a batch (a sorted set scored
  by epoch seconds, trimmed to the last hour), so a redelivered detection joins no second batch;
- ``batch:{camera}:fast_path_at``: when the camera's fast path last fired (its cooldown clock).

:func:`save` is the one write. Its order is what makes a crash harmless (see there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
import redis.asyncio as aioredis

from homesec.contract import keys
from homesec.contract.jobs import AnalysisJob, StoredDetection
from homesec.policy.batching import BatchState
from homesec.store import streams

TTL_SECONDS = keys.BATCH_KEY_TTL_SECONDS


class SavedState(msgspec.Struct, frozen=True, kw_only=True):
    open_batch: BatchState | None
    fast_path_fired_at: float | None


async def load(redis: aioredis.Redis, camera_id: str) -> SavedState:
    """The camera's open batch (None when there is none, or its keys expired or are garbled)
    and its fast-path clock."""
    batch_id, fired_at = await redis.mget(
        keys.batch_current(camera_id), keys.fast_path_fired_at(camera_id)
    )
    open_batch = None
    if batch_id is not None:
        values = await redis.mget(*keys.batch_keys(batch_id))
        open_batch = BatchState.from_redis_values(batch_id, *values)
        if open_batch is not None and open_batch.camera_id != camera_id:
            open_batch = None  # a pointer to another camera's batch: not ours to resume
    return SavedState(open_batch=open_batch, fast_path_fired_at=_float_or_none(fired_at))


def _float_or_none(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


async def has_assignments(redis: aioredis.Redis, camera_id: str) -> bool:
    """Whether the camera's set of batched ids exists: gone after Redis lost its data (or an
    hour with nothing batched), when it cannot tell which detections a batch holds."""
    return bool(await redis.exists(keys.batched_detections(camera_id)))


async def unassigned(
    redis: aioredis.Redis, camera_id: str, detections: Sequence[StoredDetection]
) -> list[StoredDetection]:
    """``detections`` without those already given to a batch (first of each id only)."""
    unique = list({detection.detection_id: detection for detection in detections}.values())
    if not unique:
        return []
    scores = await redis.zmscore(
        keys.batched_detections(camera_id), [str(d.detection_id) for d in unique]
    )
    return [detection for detection, score in zip(unique, scores, strict=True) if score is None]


async def save(
    redis: aioredis.Redis,
    camera_id: str,
    *,
    previous: BatchState | None,
    jobs: Sequence[AnalysisJob],
    open_batch: BatchState | None,
    assigned: Sequence[int],
    fast_path_fired_at: float | None,
    fast_path_cooldown_seconds: float,
    now: float,
) -> None:
    """Enqueue ``jobs``, then replace ``previous`` by ``open_batch``, record the ``assigned``
    ids and, when it fired (not None), the fast path's time.

    Jobs go first: a crash after them but before the state write leaves the old state, so the
    redelivered detections (the Detector acknowledges only after :meth:`Batcher.add` returned)
    or the next tick produce the same jobs again, under the same deterministic batch ids, and
    the Analyst's unique ``events.batch_id`` makes no second event. The other order could delete
    a closed batch's state before its job exists: a lost batch. The state, the assigned ids and
    the fast-path clock change in one MULTI/EXEC, so no reader sees ids assigned to a batch that
    was not saved.
    """
    for job in jobs:
        await streams.enqueue(redis, keys.ANALYSIS_QUEUE, job)
    async with redis.pipeline(transaction=True) as pipe:
        if previous is not None and (
            open_batch is None or open_batch.batch_id != previous.batch_id
        ):
            pipe.delete(*keys.batch_keys(previous.batch_id))
        if open_batch is None:
            pipe.delete(keys.batch_current(camera_id))
        else:
            for key, value in open_batch.redis_values().items():
                pipe.set(key, value, ex=TTL_SECONDS)
        if assigned:
            key = keys.batched_detections(camera_id)
            pipe.zadd(key, {str(detection_id): now for detection_id in assigned})
            pipe.zremrangebyscore(key, "-inf", now - TTL_SECONDS)
            pipe.expire(key, TTL_SECONDS)
        if fast_path_fired_at is not None:
            # It must outlive the cooldown it measures, however long that is configured.
            ttl = max(TTL_SECONDS, math.ceil(fast_path_cooldown_seconds))
            pipe.set(keys.fast_path_fired_at(camera_id), repr(fast_path_fired_at), ex=ttl)
        await pipe.execute()
