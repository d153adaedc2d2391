"""``/api/detections``: objects found in images, their thumbnails and annotated images."""

from __future__ import annotations

import asyncio
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import File

from homesec.http.media import crop_box, draw_box, resolve_media
from homesec.http.openapi import problems
from homesec.http.pagination import decode_cursor
from homesec.http.params import (
    DEFAULT_LIMIT,
    FilterText,
    Limit,
    PageCursor,
    RowId,
    Since,
    Until,
    time_window,
)
from homesec.http.queries import detections as queries
from homesec.http.schemas.detections import Detection as DetectionOut
from homesec.http.schemas.detections import DetectionPage
from homesec.http.services import DbSession, ServicesDep

Confidence = Annotated[float | None, QueryParameter(ge=0.0, le=1.0)]
JPEG = "image/jpeg"


class DetectionController(Controller):
    path = "/api/detections"
    tags = ["detections"]

    @get()
    async def list_detections(
        self,
        db: DbSession,
        camera_id: FilterText = None,
        object_type: FilterText = None,
        start_date: Since = None,
        end_date: Until = None,
        min_confidence: Confidence = None,
        cursor: PageCursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> DetectionPage:
        """Detections matching every filter given, newest first, one keyset page at a time."""
        start_date, end_date = time_window(start_date, end_date)
        filters = queries.DetectionFilters(
            camera_id=camera_id,
            object_type=object_type,
            start_time=start_date,
            end_time=end_date,
            min_confidence=min_confidence,
        )
        position = decode_cursor(cursor) if cursor else None
        return await queries.list_detections(db, filters, position, limit)

    @get("/{detection_id:str}", responses=problems(404))
    async def get_detection(self, db: DbSession, detection_id: RowId) -> DetectionOut:
        return await queries.get_detection(db, detection_id)

    @get("/{detection_id:str}/thumbnail", media_type=JPEG, responses=problems(403, 404))
    async def thumbnail(self, db: DbSession, services: ServicesDep, detection_id: RowId) -> File:
        """The detection's thumbnail, a JPEG from the thumbnail directory."""
        detection = await queries.get_detection(db, detection_id)
        path = resolve_media(
            detection.thumbnail_path,
            [services.settings.thumbnail_dir],
            f"detection {detection_id}'s thumbnail",
        )
        return File(path=path, media_type=JPEG, content_disposition_type="inline")

    @get("/{detection_id:str}/image", media_type=JPEG, responses=problems(403, 404, 422))
    async def image(
        self,
        db: DbSession,
        services: ServicesDep,
        detection_id: RowId,
        boxed: FromQuery[bool] = True,
    ) -> Response[bytes]:
        """The source image as JPEG with the detection's box drawn on it (``boxed=false``:
        without, for a client that draws every box of the frame itself)."""
        detection = await queries.get_detection(db, detection_id)
        path = resolve_media(
            detection.file_path,
            [services.settings.foscam_base_path],
            f"detection {detection_id}'s image",
        )
        box = None
        if boxed and None not in (
            detection.bbox_x,
            detection.bbox_y,
            detection.bbox_width,
            detection.bbox_height,
        ):
            box = (detection.bbox_x, detection.bbox_y, detection.bbox_width, detection.bbox_height)
        jpeg = await asyncio.to_thread(draw_box, path, box, services.settings.max_image_pixels)
        return Response(jpeg, media_type=JPEG)

    @get("/{detection_id:str}/crop", media_type=JPEG, responses=problems(403, 404, 422))
    async def crop(
        self, db: DbSession, services: ServicesDep, detection_id: RowId
    ) -> Response[bytes]:
        """The detection's box cut from its source image (with a margin), at most 320 px."""
        detection = await queries.get_detection(db, detection_id)
        path = resolve_media(
            detection.file_path,
            [services.settings.foscam_base_path],
            f"detection {detection_id}'s image",
        )
        box = None
        if None not in (
            detection.bbox_x,
            detection.bbox_y,
            detection.bbox_width,
            detection.bbox_height,
        ):
            box = (detection.bbox_x, detection.bbox_y, detection.bbox_width, detection.bbox_height)
        jpeg = await asyncio.to_thread(crop_box, path, box, services.settings.max_image_pixels)
        return Response(jpeg, media_type=JPEG)
