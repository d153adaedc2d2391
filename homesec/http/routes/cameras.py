"""``/api/cameras``: the cameras and their upload folders."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import mimetypes
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter
from litestar.response import File, Response

from homesec.files.camera_folders import archive_folder
from homesec.files.network import lan_address
from homesec.http.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from homesec.http.media import resolve_media
from homesec.http.openapi import problems
from homesec.http.queries import cameras as queries
from homesec.http.schemas.cameras import (
    Camera,
    CameraAccountCreate,
    CameraCreate,
    CameraList,
    CameraUpdate,
    CameraWithAccount,
    FtpAccount,
    FtpAccountRequest,
)
from homesec.http.schemas.common import NO_NUL
from homesec.http.services import DbSession, ServicesDep
from homesec.models.enums import CameraStatus
from homesec.policy.camera_accounts import (
    FtpServerFacts,
    ftp_server_facts,
    generate_password,
    hash_password,
    password_problem,
)
from homesec.policy.cameras import CameraFolder, InvalidCameraId, normalize_camera_id
from homesec.settings import Settings
from homesec.store import camera_accounts
from homesec.store import cameras as store_cameras

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


async def server_facts(settings: Settings) -> FtpServerFacts:
    """What a camera's FTP settings page asks for besides user and password (this machine's
    address found off the event loop)."""
    return ftp_server_facts(settings, await asyncio.to_thread(lan_address))


def _account_body(
    facts: FtpServerFacts, camera_id: str, username: str, password: str, created: bool
) -> FtpAccount:
    return FtpAccount(
        camera_id=camera_id,
        username=username,
        password=password,
        created=created,
        server=facts.server,
        port=facts.port,
        tls=facts.tls,
        self_signed=facts.self_signed,
        passive_ports=facts.passive_words,
        server_enabled=facts.enabled,
        folder=facts.folder,
    )


def _password(given: str | None) -> str:
    password = given or generate_password()
    problem = password_problem(password)
    if problem is not None:
        raise BadRequest(f"password: {problem}")
    return password


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
        await _add_with_folder(
            services, CameraFolder(camera_id, data.name, str(folder)), data.status
        )
        return await queries.get_camera(db, camera_id)

    @get("/{camera_id:str}", responses=problems(404))
    async def get_camera(self, db: DbSession, camera_id: CameraId) -> Camera:
        return await queries.get_camera(db, camera_id)

    @patch("/{camera_id:str}", responses=problems(404))
    async def update_camera(
        self,
        db: DbSession,
        services: ServicesDep,
        camera_id: CameraId,
        data: JSONBody[CameraUpdate],
    ) -> Camera:
        changes = {
            field: getattr(data, field)
            for field in data.__struct_fields__
            if getattr(data, field) is not msgspec.UNSET
        }
        if not await store_cameras.update_camera(services.sessions, camera_id, changes):
            raise NotFound(f"no camera with id {camera_id!r}")
        return await queries.get_camera(db, camera_id)

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
        if await camera_accounts.remove_camera(services.sessions, camera_id) is None:
            raise NotFound(f"no camera with id {camera_id!r}")  # removed by another meanwhile
        await services.actors.ftp_accounts_changed()  # its login is refused from now

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
        password = _password(data.password if data is not None else None)
        done = await camera_accounts.reset_account(services.sessions, camera_id, password)
        if done is None:
            raise NotFound(f"no camera with id {camera_id!r}")
        account, created = done
        await services.actors.ftp_accounts_changed()  # the new password works at once
        facts = await server_facts(services.settings)
        body = _account_body(facts, camera_id, account.username, password, created)
        return Response(body, status_code=201 if created else 200)

    @delete("/{camera_id:str}/ftp-account", responses=problems(404))
    async def delete_ftp_account(self, services: ServicesDep, camera_id: CameraId) -> None:
        """Remove the camera's FTP account (the camera and its images stay); the server refuses
        it within seconds, its open sessions at their next command."""
        if not await camera_accounts.remove_account(services.sessions, camera_id):
            raise NotFound(f"camera {camera_id!r} has no FTP account")
        await services.actors.ftp_accounts_changed()

    @get("/{camera_id:str}/snapshot", media_type="image/jpeg", responses=problems(403, 404))
    async def snapshot(self, db: DbSession, services: ServicesDep, camera_id: CameraId) -> File:
        """The camera's most recent image."""
        stored = await queries.latest_image_path(db, camera_id)
        path = resolve_media(
            stored, [services.settings.foscam_base_path], f"camera {camera_id!r}'s latest image"
        )
        media_type = mimetypes.guess_type(Path(path).name)[0] or "application/octet-stream"
        return File(path=path, media_type=media_type, content_disposition_type="inline")


class CameraAccountController(Controller):
    path = "/api/camera-accounts"
    tags = ["cameras"]

    @post(responses=problems(409))
    async def add_camera_with_account(
        self, db: DbSession, services: ServicesDep, data: JSONBody[CameraAccountCreate]
    ) -> CameraWithAccount:
        """Add a camera with its FTP account in one step, as ``homesec camera add`` does: the
        camera (its id, which is also its FTP user, is the name normalised), its folder
        ``<FOSCAM_BASE_PATH>/<id>`` and its account. The answer holds what to enter in the
        camera's FTP settings, the password this once (it is stored hashed). 400 for a name
        without letters or digits or a password not allowed; 409 when a camera has that id
        (``POST /api/cameras/{id}/ftp-account`` gives an existing camera an account)."""
        try:
            camera_id = normalize_camera_id(data.name)
        except InvalidCameraId:
            raise BadRequest(
                f"name {data.name!r} has no letters or digits to make the camera's id (its FTP "
                "user) of: use a name such as 'Front Door'"
            ) from None
        password = _password(data.password)
        hashed = await asyncio.to_thread(hash_password, password)
        folder = services.settings.foscam_base_path / camera_id
        # Offline until it uploads, as the camera's watcher would say.
        await _add_with_folder(
            services, CameraFolder(camera_id, data.name, str(folder)), CameraStatus.OFFLINE, hashed
        )
        await services.actors.ftp_accounts_changed()  # it may log in at once
        camera = await queries.get_camera(db, camera_id)
        facts = await server_facts(services.settings)
        return CameraWithAccount(
            camera=msgspec.structs.replace(camera, has_ftp_account=True, ftp_username=camera_id),
            ftp_account=_account_body(facts, camera_id, camera_id, password, created=True),
        )


async def _add_with_folder(
    services: ServicesDep, camera: CameraFolder, status: str, password_hash: str | None = None
) -> None:
    """Create the camera's folder, then register the camera (and its account): a folder that
    cannot be made adds nothing (503), so no camera is left without the folder its watcher and
    FTP account need; a camera that exists already (409) leaves no folder made for it."""
    folder = Path(camera.folder_path)
    made = not await asyncio.to_thread(folder.exists)
    try:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    except OSError as exc:
        raise ServiceUnavailable(f"cannot create the camera's folder {folder}: {exc}") from None
    try:
        await store_cameras.add_camera(
            services.sessions, camera, status, password_hash=password_hash
        )
    except store_cameras.CameraExists:
        if made:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(folder.rmdir)
        raise Conflict(f"a camera with id {camera.camera_id!r} already exists") from None
