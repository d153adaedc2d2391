"""The memory of things that stay put: a camera's recent frames (``uploads``) and detections.

No state of its own: the detections already stored (each with the time its spot was first
seen) and the camera's processed uploads are the memory, so it survives restarts and Redis
losing its data, and forgets by itself as frames age out. Two indexed queries
(``idx_uploads_camera_processed``, ``idx_detections_camera_time``) per detector batch, for all
of the batch's cameras together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import BoundingBox, StationaryThing
from homesec.models import Detection as DetectionRow
from homesec.models import Upload
from homesec.policy.stationary import Frame, Sighting
from homesec.store.detections import happened_at


class Memory(msgspec.Struct, frozen=True):
    """A camera's recent frames and the detections in them."""

    frames: list[Frame]
    sightings: list[Sighting]


async def recent_memory(
    sessions: async_sessionmaker[AsyncSession], camera_ids: Collection[str], since: dt.datetime
) -> dict[str, Memory]:
    """Each camera's uploads processed since ``since``, and its detections with a box stored
    since then, by camera."""
    found: dict[str, Memory] = {camera_id: Memory([], []) for camera_id in camera_ids}
    if not found:
        return found
    async with sessions() as session:
        uploads = await session.execute(
            select(
                Upload.camera_id,
                Upload.file_path,
                func.coalesce(Upload.captured_at, Upload.processed_at),
            ).where(Upload.camera_id.in_(list(found)), Upload.processed_at >= since)
        )
        for camera_id, frame, at in uploads.all():
            found[camera_id].frames.append(Frame(frame=frame, at=at))
        rows = await session.execute(
            select(
                DetectionRow.camera_id,
                DetectionRow.object_type,
                DetectionRow.bbox_x,
                DetectionRow.bbox_y,
                DetectionRow.bbox_width,
                DetectionRow.bbox_height,
                DetectionRow.file_path,
                happened_at(),
                DetectionRow.spot_since,
            ).where(
                DetectionRow.camera_id.in_(list(found)),
                DetectionRow.detected_at >= since,
                DetectionRow.bbox_width.is_not(None),
                DetectionRow.bbox_height.is_not(None),
            )
        )
        for camera_id, kind, x, y, width, height, frame, at, spot_since in rows.all():
            found[camera_id].sightings.append(
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
