"""Cameras in PostgreSQL, and the newest image each one uploaded."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.errors import NotFound
from homesec.http.schemas import cameras as schemas
from homesec.models import Camera, Detection, Upload, UploadStatus
from homesec.policy.scoring import camera_role
from homesec.store.camera_accounts import usernames_in
from homesec.store.camera_problems import open_problems_in
from homesec.store.uploads import RejectedUploads, rejected_uploads_in


def _camera(
    row: Camera,
    ftp_username: str | None = None,
    rejected: RejectedUploads | None = None,
    problems: list[str] | None = None,
) -> schemas.Camera:
    camera = msgspec.convert(row, schemas.Camera, from_attributes=True)
    scoring = camera_role(row.name, row.role)
    return msgspec.structs.replace(
        camera,
        has_ftp_account=ftp_username is not None,
        ftp_username=ftp_username,
        scoring_role=scoring.role,
        role_source=scoring.source,
        rejected_uploads=rejected.count if rejected else 0,
        last_rejected_at=rejected.last_at if rejected else None,
        problems=problems or [],
    )


async def _with_account(session: AsyncSession, row: Camera) -> schemas.Camera:
    usernames = await usernames_in(session, [row.id])
    rejected = await rejected_uploads_in(session, [row.id])
    problems = await open_problems_in(session)
    return _camera(row, usernames.get(row.id), rejected.get(row.id), problems.get(row.id))


async def list_cameras(session: AsyncSession) -> schemas.CameraList:
    rows = (await session.scalars(select(Camera).order_by(Camera.id))).all()
    ids = [row.id for row in rows]
    usernames = await usernames_in(session, ids)
    rejected = await rejected_uploads_in(session, ids)
    problems = await open_problems_in(session)
    items = [
        _camera(row, usernames.get(row.id), rejected.get(row.id), problems.get(row.id))
        for row in rows
    ]
    return schemas.CameraList(items=items, count=len(rows))


async def _get(session: AsyncSession, camera_id: str) -> Camera:
    row = await session.get(Camera, camera_id)
    if row is None:
        raise NotFound(f"no camera with id {camera_id!r}")
    return row


async def get_camera(session: AsyncSession, camera_id: str) -> schemas.Camera:
    return await _with_account(session, await _get(session, camera_id))


async def latest_image_path(session: AsyncSession, camera_id: str) -> str | None:
    """The newest finished upload's file, else the newest detection's source image."""
    await _get(session, camera_id)
    upload = await session.scalar(
        select(Upload.file_path)
        .where(Upload.camera_id == camera_id, Upload.status == UploadStatus.DONE)
        .order_by(Upload.received_at.desc(), Upload.id.desc())
        .limit(1)
    )
    if upload is not None:
        return upload
    return await session.scalar(
        select(Detection.file_path)
        .where(Detection.camera_id == camera_id)
        .order_by(Detection.detected_at.desc(), Detection.id.desc())
        .limit(1)
    )


class StationaryThing(msgspec.Struct, kw_only=True):
    """A thing that stays put in a camera's view (a parked car), as the Cameras page lists it."""

    object_type: str | None
    stationary_since: dt.datetime | None  # when its spot was first seen
    last_seen: dt.datetime


async def stationary_things(
    session: AsyncSession, seen_since: dt.datetime
) -> dict[str, list[StationaryThing]]:
    """Each camera's things that stayed put and were seen since ``seen_since`` (one per kind
    and spot, the longest-standing first), by camera (the partial ``idx_detections_stationary``
    index)."""
    seen = func.max(func.coalesce(Detection.captured_at, Detection.detected_at))
    rows = await session.execute(
        select(Detection.camera_id, Detection.object_type, Detection.spot_since, seen)
        .where(Detection.stationary, Detection.detected_at >= seen_since)
        .group_by(Detection.camera_id, Detection.object_type, Detection.spot_since)
        .order_by(Detection.camera_id, Detection.spot_since)
    )
    things: dict[str, list[StationaryThing]] = {}
    for camera_id, object_type, since, last_seen in rows.all():
        things.setdefault(camera_id, []).append(
            StationaryThing(object_type=object_type, stationary_since=since, last_seen=last_seen)
        )
    return things
