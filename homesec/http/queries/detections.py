"""Detections in PostgreSQL: filtered keyset pages and single rows."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.errors import NotFound
from homesec.http.pagination import Cursor, after, split_page
from homesec.http.schemas import detections as schemas
from homesec.models import Detection


class DetectionFilters(msgspec.Struct, kw_only=True):
    camera_id: str | None = None
    object_type: str | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    min_confidence: float | None = None


def to_detection(row: Detection) -> schemas.Detection:
    detection = msgspec.convert(row, schemas.Detection, from_attributes=True)
    if row.stationary:
        detection = msgspec.structs.replace(detection, stationary_since=row.spot_since)
    return detection


def page_statement(filters: DetectionFilters, cursor: Cursor | None, limit: int) -> Select:
    conditions = []
    if filters.camera_id is not None:
        conditions.append(Detection.camera_id == filters.camera_id)
    if filters.object_type is not None:
        conditions.append(Detection.object_type == filters.object_type)
    if filters.start_time is not None:
        conditions.append(Detection.detected_at >= filters.start_time)
    if filters.end_time is not None:
        conditions.append(Detection.detected_at <= filters.end_time)
    if filters.min_confidence is not None:
        conditions.append(Detection.confidence >= filters.min_confidence)
    if cursor is not None:
        conditions.append(after(Detection.detected_at, Detection.id, cursor))
    return (
        select(Detection)
        .where(*conditions)
        .order_by(Detection.detected_at.desc(), Detection.id.desc())
        .limit(limit + 1)
    )


async def list_detections(
    session: AsyncSession, filters: DetectionFilters, cursor: Cursor | None, limit: int
) -> schemas.DetectionPage:
    rows = (await session.scalars(page_statement(filters, cursor, limit))).all()
    page, next_cursor = split_page(rows, limit, ("detected_at", "id"))
    return schemas.DetectionPage(items=[to_detection(row) for row in page], next_cursor=next_cursor)


async def get_detection(session: AsyncSession, detection_id: int) -> schemas.Detection:
    row = await session.get(Detection, detection_id)
    if row is None:
        raise NotFound(f"no detection with id {detection_id}")
    return to_detection(row)
