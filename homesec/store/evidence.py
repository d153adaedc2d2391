"""What an event's evidence archive needs of PostgreSQL (issue 24), read in one session: the
event, its camera, the detections it lists that still exist, and the ledger rows of their
pictures (when each arrived and what it hashed to then). Read only."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import Camera, Detection, Event, Upload
from homesec.policy.evidence import (
    EvidenceCamera,
    EvidenceDetection,
    EvidenceRecord,
    EvidenceUpload,
    Verdict,
)
from homesec.store.events import decode_detection_ids
from homesec.store.uploads import any_path


def _detection(row: Detection) -> EvidenceDetection:
    box = (row.bbox_x, row.bbox_y, row.bbox_width, row.bbox_height)
    return EvidenceDetection(
        id=row.id,
        file_path=row.file_path,
        object_type=row.object_type,
        confidence=row.confidence,
        bbox=None if None in box else box,  # type: ignore[arg-type]
        zones=row.zones,
        captured_at=row.captured_at,
        detected_at=row.detected_at,
    )


async def read_evidence(
    sessions: async_sessionmaker[AsyncSession], event_id: int
) -> EvidenceRecord | None:
    """The event's facts for its archive; None when there is no such event."""
    async with sessions() as session:
        event = await session.get(Event, event_id)
        if event is None:
            return None
        camera = await session.get(Camera, event.camera_id)
        ids = decode_detection_ids(event.detection_ids)
        rows = []
        if ids:
            rows = (
                await session.scalars(
                    select(Detection)
                    .where(Detection.id.in_(ids))
                    .order_by(
                        func.coalesce(Detection.captured_at, Detection.detected_at), Detection.id
                    )
                )
            ).all()
        paths = sorted({row.file_path for row in rows})
        uploads = {}
        if paths:
            found = await session.execute(
                select(Upload.file_path, Upload.received_at, Upload.sha256).where(
                    Upload.file_path == any_path(paths)
                )
            )
            uploads = {
                path: EvidenceUpload(received_at=received_at, sha256=sha256)
                for path, received_at, sha256 in found.all()
            }
        return EvidenceRecord(
            event_id=event.id,
            batch_id=event.batch_id,
            started_at=event.started_at,
            ended_at=event.ended_at,
            verdict=Verdict(
                risk_score=event.risk_score,
                risk_level=event.risk_level,
                summary=event.summary,
                reasoning=event.reasoning,
                scored_by_engine=event.scored_by_engine,
                scored_by_model=event.scored_by_model,
                prompt_version=event.prompt_version,
                is_fast_path=event.is_fast_path,
                supersedes_event_id=event.supersedes_event_id,
                reviewed=event.reviewed,
                notes=event.notes,
            ),
            held_at=event.held_at,
            hold_note=event.hold_note,
            camera=EvidenceCamera(
                id=event.camera_id,
                name=camera.name if camera is not None else event.camera_id,
                role=camera.role if camera is not None else None,
            ),
            detections=[_detection(row) for row in rows],
            uploads=uploads,
        )
