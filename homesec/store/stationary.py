"""The memory of things that stay put: a camera's recent frames (``uploads``) and detections.

No state of its own: the detections already stored (each with the time its spot was first
seen) and the camera's processed uploads are the memory, so it survives restarts and Redis
losing its data, and forgets by itself as frames age out. One indexed query per detector batch,
for all of the batch's cameras together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import msgspec
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import BoundingBox, StationaryThing
from homesec.models import Detection as DetectionRow
from homesec.models import Upload
from homesec.policy.stationary import Frame, Sighting


class Memory(msgspec.Struct, frozen=True):
    """A camera's recent frames and the detections in them."""

    frames: list[Frame]
    sightings: list[Sighting]


async def recent_memory(
    sessions: async_sessionmaker[AsyncSession], camera_ids: Collection[str], since: dt.datetime
) -> dict[str, Memory]:
    """Each camera's uploads processed since ``since`` and the boxes found on them, by camera:
    one query (``idx_uploads_camera_processed``, then ``idx_detections_file_path``)."""
    found: dict[str, Memory] = {camera_id: Memory([], []) for camera_id in camera_ids}
    if not found:
        return found
    taken = func.coalesce(Upload.captured_at, Upload.processed_at)
    boxes = and_(
        DetectionRow.file_path == Upload.file_path,
        DetectionRow.camera_id == Upload.camera_id,
        DetectionRow.bbox_width.is_not(None),
        DetectionRow.bbox_height.is_not(None),
    )
    async with sessions() as session:
        rows = await session.execute(
            select(
                Upload.camera_id,
                Upload.file_path,
                taken,
                DetectionRow.object_type,
                DetectionRow.bbox_x,
                DetectionRow.bbox_y,
                DetectionRow.bbox_width,
                DetectionRow.bbox_height,
                DetectionRow.spot_since,
            )
            .select_from(Upload)
            .outerjoin(DetectionRow, boxes)
            .where(Upload.camera_id.in_(list(found)), Upload.processed_at >= since)
        )
    seen: set[str] = set()
    for camera_id, frame, at, kind, x, y, width, height, spot_since in rows.all():
        memory = found[camera_id]
        if frame not in seen:
            seen.add(frame)
            memory.frames.append(Frame(frame=frame, at=at))
        if width is not None:  # an empty frame has no box, but it is a frame
            memory.sightings.append(
                Sighting(
                    object_type=kind or "",
                    bbox=BoundingBox(x or 0, y or 0, width, height),
                    frame=frame,
                    at=at,
                    since=spot_since,
                )
            )
    return found


async def stationary_in_frames_in(
    session: AsyncSession, camera_id: str, file_paths: Collection[str]
) -> list[StationaryThing]:
    """The things that stayed put in these frames of the camera (a parked car), one per kind
    and spot, the longest-standing first: what the Analyst tells its LLM as the scenery."""
    if not file_paths:
        return []
    rows = await session.execute(
        select(DetectionRow.object_type, DetectionRow.spot_since)
        .where(
            DetectionRow.file_path.in_(list(file_paths)),
            DetectionRow.camera_id == camera_id,
            DetectionRow.stationary,
            DetectionRow.spot_since.is_not(None),
        )
        .distinct()
        .order_by(DetectionRow.spot_since, DetectionRow.object_type)
    )
    return [
        StationaryThing(object_type=kind or "unknown", since=since) for kind, since in rows.all()
    ]
