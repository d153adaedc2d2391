"""The analyst's I/O: a batch's camera and detections in, its event out and published once.

Both writes are idempotent, so a redelivered batch is harmless:

- ``events.batch_id`` is unique, and an event is written with ``INSERT ... ON CONFLICT
  (batch_id) DO NOTHING``; whoever loses a race reads the winner's row.
- Publishing sets ``published:{event_id}`` NX and publishes in one Lua script, so the marker
  exists exactly when the message went out: no window where one happened without the other.
"""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.actors.coverage import already_covered
from homesec.models import Camera, Detection, Event
from homesec.ops import keys
from homesec.pipeline.backfill_plan import is_reanalysis_batch
from homesec.pipeline.structs import (
    AnalysisJob,
    BoundingBox,
    DetectionSummary,
    RiskAssessment,
    SecurityEventData,
    SecurityEventMessage,
)

# Long past any redelivery of the same batch (an entry pending that long would be published
# again, which only costs one duplicate live message), short enough not to pile up keys.
PUBLISHED_MARKER_TTL_SECONDS = 86_400

# A detector may store a row without a class or score; the model is told so rather than
# the batch failing on it.
UNKNOWN_OBJECT_TYPE = "unknown"

_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
"""


class StoredBatch(msgspec.Struct, frozen=True, kw_only=True):
    """What is left in PostgreSQL of one batch: its camera's name and its detections."""

    camera_name: str
    detections: list[DetectionSummary]  # oldest first; never empty


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of an ``events`` row that its live message carries."""

    id: int
    batch_id: str
    camera_id: str
    risk_score: int | None
    risk_level: str | None
    summary: str | None
    started_at: dt.datetime
    is_fast_path: bool


def _summary(row: Detection) -> DetectionSummary:
    box = (row.bbox_x, row.bbox_y, row.bbox_width, row.bbox_height)
    return DetectionSummary(
        detection_id=row.id,
        object_type=row.object_type or UNKNOWN_OBJECT_TYPE,
        confidence=row.confidence if row.confidence is not None else 0.0,
        detected_at=row.detected_at,
        bbox=BoundingBox(*box) if all(value is not None for value in box) else None,
    )


async def load_batch(
    sessions: async_sessionmaker[AsyncSession], job: AnalysisJob
) -> StoredBatch | None:
    """The job's camera and those of its detections that still exist and no other batch event
    holds; None when none are left (retention cleanup, the camera was deleted, or every one
    is already in an event)."""
    if not job.detection_ids:
        return None
    async with sessions() as session:
        camera_name = await session.scalar(select(Camera.name).where(Camera.id == job.camera_id))
        if camera_name is None:
            return None
        rows = await session.scalars(
            select(Detection)
            .where(Detection.id.in_(job.detection_ids), Detection.camera_id == job.camera_id)
            .order_by(Detection.detected_at, Detection.id)
        )
        detections = [_summary(row) for row in rows]
        if detections and not job.is_fast_path and not is_reanalysis_batch(job.batch_id):
            # A batch rebuilt after Redis lost its state may repeat detections that an event
            # already holds: those stay where they are, so no detection is in two events. A
            # backfill's reanalysis repeats them on purpose (a new event beside the old one).
            covered = await already_covered(
                session,
                job.camera_id,
                [d.detection_id for d in detections],
                detections[0].detected_at,
                except_batch=job.batch_id,
            )
            detections = [d for d in detections if d.detection_id not in covered]
    if not detections:
        return None
    return StoredBatch(camera_name=camera_name, detections=detections)


def _stored(row: Event) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        batch_id=row.batch_id,
        camera_id=row.camera_id,
        risk_score=row.risk_score,
        risk_level=row.risk_level,
        summary=row.summary,
        started_at=row.started_at,
        is_fast_path=row.is_fast_path,
    )


async def find_event(
    sessions: async_sessionmaker[AsyncSession], batch_id: str
) -> StoredEvent | None:
    async with sessions() as session:
        row = await session.scalar(select(Event).where(Event.batch_id == batch_id))
        return _stored(row) if row is not None else None


async def insert_event(
    sessions: async_sessionmaker[AsyncSession],
    job: AnalysisJob,
    batch: StoredBatch,
    assessment: RiskAssessment,
    risk_level: str,
) -> tuple[StoredEvent, bool]:
    """Write the batch's event unless it exists; returns the event and whether this call
    wrote it (False: another analyst holding a redelivery of the batch was first)."""
    first, last = batch.detections[0], batch.detections[-1]
    values = {
        "batch_id": job.batch_id,
        "camera_id": job.camera_id,
        "started_at": first.detected_at,
        "ended_at": last.detected_at,
        "risk_score": assessment.risk_score,
        "risk_level": risk_level,
        "summary": assessment.summary,
        "reasoning": assessment.reasoning,
        # A JSON array as text, as the contract has it.
        "detection_ids": json.dumps([d.detection_id for d in batch.detections]),
        "is_fast_path": job.is_fast_path,
    }
    statement = (
        insert(Event)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Event.batch_id])
        .returning(Event.id)
    )
    async with sessions.begin() as session:
        event_id = await session.scalar(statement)
        if event_id is None:
            # Read committed: this statement sees the row whose insert made ours a no-op.
            existing = await session.scalar(select(Event).where(Event.batch_id == job.batch_id))
            return _stored(existing), False
    return (
        StoredEvent(
            id=event_id,
            batch_id=job.batch_id,
            camera_id=job.camera_id,
            risk_score=assessment.risk_score,
            risk_level=risk_level,
            summary=assessment.summary,
            started_at=first.detected_at,
            is_fast_path=job.is_fast_path,
        ),
        True,
    )


def event_message(event: StoredEvent) -> SecurityEventMessage:
    """The contract's ``security_events`` message for ``event``."""
    return SecurityEventMessage(
        data=SecurityEventData(
            id=event.id,
            event_id=event.id,
            batch_id=event.batch_id,
            camera_id=event.camera_id,
            risk_score=event.risk_score,
            risk_level=event.risk_level,
            summary=event.summary,
            started_at=event.started_at.isoformat(),
            is_fast_path=event.is_fast_path,
        )
    )


async def publish_once(redis: aioredis.Redis, event: StoredEvent) -> bool:
    """Publish ``event`` on ``security_events`` unless someone already did; True if we did."""
    published = await redis.eval(
        _PUBLISH_ONCE,
        1,
        keys.event_published(event.id, event.started_at.timestamp()),
        PUBLISHED_MARKER_TTL_SECONDS,
        keys.SECURITY_EVENTS,
        msgspec.json.encode(event_message(event)).decode(),
    )
    return bool(published)
