"""``/api/cameras``: the cameras and their upload folders."""

from __future__ import annotations

import asyncio
import datetime as dt
import mimetypes
from pathlib import Path
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter
from litestar.response import File, Response

from homesec.files.camera_folders import archive_folder
from homesec.http.errors import BadRequest, NotFound, ServiceUnavailable
from homesec.http.media import resolve_media
from homesec.http.openapi import problems
from homesec.http.queries import cameras as queries
from homesec.http.schemas.cameras import (
    Camera,
    CameraCreate,
    CameraList,
    CameraUpdate,
    FtpAccount,
    FtpAccountRequest,
)
from homesec.http.schemas.common import NO_NUL
from homesec.http.services import DbSession, ServicesDep
from homesec.pipeline.camera_accounts import generate_password, password_problem
from homesec.pipeline.cameras import InvalidCameraId, normalize_camera_id
from homesec.store import camera_accounts

CameraId = Annotated[str, PathParameter(min_length=1, max_length=100, pattern=NO_NUL)]


def _new_camera_id(data: JSONBody[CameraCreate]) -> str:
    try:
        if data.id is None:
            return normalize_camera_id(data.name)
        if normalize_camera_id(data.id) != data.id:
            raise BadRequest(
                f"id {data.id!r} is not a camera id: use lower-case letters, digits, _ and -, "
                f"such as {normalize_camera_id(data.id)!r}"
            )
    except InvalidCameraId as exc:
        raise BadRequest(str(exc)) from None
    return data.id


class CameraController(Controller):
    path = "/api/cameras"
    tags = ["cameras"]

    @get()
    async def list_cameras(self, db: DbSession) -> CameraList:
        return await queries.list_cameras(db)

    @post(responses=problems(409))
    async def create_camera(
        self, db: DbSession, services: ServicesDep, data: JSONBody[CameraCreate]
    ) -> Camera:
        """Register a camera and create its folder ``<FOSCAM_BASE_PATH>/<id>``; 409 if the id
        is taken."""
        camera_id = _new_camera_id(data)
        folder = services.settings.foscam_base_path / camera_id
        camera = await queries.insert_camera(db, camera_id, data.name, str(folder), data.status)
        try:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            await db.rollback()
            raise ServiceUnavailable(f"cannot create the camera's folder {folder}: {exc}") from None
        await db.commit()
        return camera

    @get("/{camera_id:str}", responses=problems(404))
    async def get_camera(self, db: DbSession, camera_id: CameraId) -> Camera:
        return await queries.get_camera(db, camera_id)

    @patch("/{camera_id:str}", responses=problems(404))
    async def update_camera(
        self, db: DbSession, camera_id: CameraId, data: JSONBody[CameraUpdate]
    ) -> Camera:
        return await queries.update_camera(db, camera_id, data)

    @delete("/{camera_id:str}", responses=problems(404))
    async def delete_camera(
        self, db: DbSession, services: ServicesDep, camera_id: CameraId
    ) -> None:
        """Remove the camera with its detections, events and FTP account. Its folder, images
        and all, moves to ``<FOSCAM_BASE_PATH>/.removed/<folder>-<time>``, so the camera stays
        removed: the folder is not found and registered again. A folder of the same name made
        later (a camera still uploading) is a new camera. Removing a camera that is gone (a
        second DELETE, or one that lost a race with another) is a 404."""
        camera = await queries.get_camera(db, camera_id)  # 404 before anything moves
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        base = services.settings.foscam_base_path
        try:
            await asyncio.to_thread(archive_folder, Path(camera.folder_path), base, stamp)
        except OSError as exc:
            raise ServiceUnavailable(
                f"cannot move the camera's folder {camera.folder_path} aside: {exc}"
            ) from None
        await queries.delete_camera(db, camera_id)

    @post(
        "/{camera_id:str}/ftp-account",
        responses={
            200: ResponseSpec(FtpAccount, description="a new password for the account"),
            **problems(404),
        },
    )
    async def set_ftp_account(
        self,
        services: ServicesDep,
        camera_id: CameraId,
        data: JSONBody[FtpAccountRequest | None] = None,
    ) -> Response[FtpAccount]:
        """Create the camera's account on homesec's FTP server (201), or give it a new password
        (200). The password is in this answer only; it is stored hashed."""
        password = (data.password if data is not None else None) or generate_password()
        problem = password_problem(password)
        if problem is not None:
            raise BadRequest(f"password: {problem}")
        done = await camera_accounts.reset_account(services.sessions, camera_id, password)
        if done is None:
            raise NotFound(f"no camera with id {camera_id!r}")
        account, created = done
        settings = services.settings
        body = FtpAccount(
            camera_id=camera_id,
            username=account.username,
            password=password,
            created=created,
            port=settings.ftp_port,
            tls=settings.ftp_tls,
        )
        return Response(body, status_code=201 if created else 200)

    @delete("/{camera_id:str}/ftp-account", responses=problems(404))
    async def delete_ftp_account(self, services: ServicesDep, camera_id: CameraId) -> None:
        """Remove the camera's FTP account (the camera and its images stay); the server refuses
        it within seconds, its open sessions at their next command."""
        if not await camera_accounts.remove_account(services.sessions, camera_id):
            raise NotFound(f"camera {camera_id!r} has no FTP account")

    @get("/{camera_id:str}/snapshot", media_type="image/jpeg", responses=problems(403, 404))
    async def snapshot(self, db: DbSession, services: ServicesDep, camera_id: CameraId) -> File:
        """The camera's most recent image."""
        stored = await queries.latest_image_path(db, camera_id)
        path = resolve_media(
            stored, [services.settings.foscam_base_path], f"camera {camera_id!r}'s latest image"
        )
        media_type = mimetypes.guess_type(Path(path).name)[0] or "application/octet-stream"
        return File(path=path, media_type=media_type, content_disposition_type="inline")
