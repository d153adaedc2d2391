"""The dead-letter queues as the API shows them (:mod:`homesec.store.dead_letters` does the Redis
work): an unknown queue is a 404, a requeue that cannot proceed a 409."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract import keys
from homesec.http.errors import Conflict, NotFound
from homesec.http.schemas.dlq import ClearResult, DlqItem, DlqPage, DlqStats, RequeueResult
from homesec.store import dead_letters, uploads


@contextlib.contextmanager
def _as_http_errors() -> Iterator[None]:
    try:
        yield
    except dead_letters.UnknownQueue as exc:
        raise NotFound(str(exc)) from exc
    except dead_letters.RequeueRefused as exc:
        raise Conflict(str(exc)) from exc


async def dlq_stats(redis: aioredis.Redis) -> DlqStats:
    counts = await dead_letters.counts(redis)
    return DlqStats(
        detection_queue=counts[keys.DETECTION_QUEUE],
        analysis_queue=counts[keys.ANALYSIS_QUEUE],
        total=sum(counts.values()),
    )


async def list_entries(redis: aioredis.Redis, queue: str, start: int, limit: int) -> DlqPage:
    """Entries ``start`` .. ``start + limit - 1``, oldest first; nothing is removed."""
    with _as_http_errors():
        page = await dead_letters.list_entries(redis, queue, start, limit)
    items = [DlqItem(position=i.position, entry=i.entry, raw=i.raw) for i in page.items]
    return DlqPage(queue=queue, items=items, start=start, limit=limit, total=page.total)


async def requeue(
    redis: aioredis.Redis,
    sessions: async_sessionmaker[AsyncSession],
    queue: str,
    *,
    everything: bool,
) -> RequeueResult:
    """Move dead letters back to their stream; requeued uploads are ``queued`` again in the
    ledger, so the ledger never says ``failed`` of a job that is being done."""
    with _as_http_errors():
        moved, remaining = await dead_letters.requeue(redis, queue, everything=everything)
    if queue == keys.DETECTION_QUEUE:
        paths = [job["file_path"] for job in moved if isinstance(job.get("file_path"), str)]
        await uploads.mark_requeued(sessions, paths)
    return RequeueResult(queue=queue, requeued=len(moved), remaining=remaining)


async def clear(redis: aioredis.Redis, queue: str) -> ClearResult:
    with _as_http_errors():
        deleted = await dead_letters.clear(redis, queue)
    return ClearResult(queue=queue, deleted=deleted)
