"""The ledger reconciler: ledger rows that no queue holds any more go on the queue again.

Run by the Supervisor every so often (:mod:`homesec.policy.stranded` decides which rows).
Requeueing is safe: the detector is idempotent on the ledger, so a row that turns out to have
been in flight after all costs one redelivery, not a second set of detections.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract import keys
from homesec.contract.jobs import DetectionJob
from homesec.policy.retry import utc_iso
from homesec.policy.stranded import stranded
from homesec.store import dead_letters, streams, uploads

log = logging.getLogger("homesec.reconciler")


async def requeue_stranded(
    sessions: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    *,
    now: dt.datetime,
    stranded_after_seconds: float,
) -> int:
    """Put the jobs of stranded rows back on the detection queue; how many there were."""
    waiting = await uploads.waiting_since_before(
        sessions, now - dt.timedelta(seconds=stranded_after_seconds)
    )
    if not waiting:
        return 0
    queued = await streams.queued_file_paths(redis, keys.DETECTION_QUEUE)
    dead = await dead_letters.file_paths(redis, keys.DETECTION_QUEUE)
    lost = stranded(waiting, queued, dead)
    if not lost:
        return 0
    timestamp = utc_iso(now.timestamp())
    jobs = [
        DetectionJob(
            camera_id=row.camera_id,
            file_path=row.file_path,
            timestamp=timestamp,
            upload_id=row.id,
            sha256=row.sha256,
        )
        for row in lost
    ]
    await streams.enqueue_many(redis, keys.DETECTION_QUEUE, jobs)
    log.warning(
        "%d uploads were queued in the ledger but in no queue (Redis lost them?); queued again",
        len(jobs),
    )
    return len(jobs)
