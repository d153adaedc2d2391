"""The Cameras page: add a camera with its FTP account (``POST /api/camera-accounts``); a card
per camera with its latest snapshot and its age, status ("waiting for its first upload" until it
uploads), last seen, its FTP settings (never the password) and a new password
(``POST /api/cameras/{id}/ftp-account``), rename, its role for the scoring and the analysis
switch (``PATCH /api/cameras/{id}``), and removal after a confirmation
(``DELETE /api/cameras/{id}``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

from litestar import get
from litestar.response import Template

from homesec.http.queries import cameras as camera_queries
from homesec.http.routes.cameras import server_facts
from homesec.http.services import DbSession, ServicesDep
from homesec.models.enums import CameraRole


def _taken_at(path: str | None) -> dt.datetime | None:
    """When the snapshot file was written; None when there is none (or it is gone)."""
    if path is None:
        return None
    try:
        return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.UTC)
    except OSError:
        return None


@get("/cameras", include_in_schema=False)
async def cameras_page(db: DbSession, services: ServicesDep) -> Template:
    cameras = (await camera_queries.list_cameras(db)).items
    # Only a camera with an image on disk gets an <img> (no request bound to fail).
    snapshots = {}
    for camera in cameras:
        path = await camera_queries.latest_image_path(db, camera.id)
        snapshots[camera.id] = await asyncio.to_thread(_taken_at, path)
    return Template(
        template_name="cameras.html",
        context={
            "page": "cameras",
            "active": "/cameras",
            "cameras": cameras,
            "snapshots": snapshots,
            "roles": [role.value for role in CameraRole],
            "now": dt.datetime.now(dt.UTC),
            "ftp": await server_facts(services.settings),
        },
    )
