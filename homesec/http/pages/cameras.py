"""The Cameras page: a card per camera with its latest snapshot, status and switches."""

from __future__ import annotations

import datetime as dt

from litestar import get
from litestar.response import Template

from homesec.http.queries import cameras as camera_queries
from homesec.http.services import DbSession


@get("/cameras", include_in_schema=False)
async def cameras_page(db: DbSession) -> Template:
    cameras = (await camera_queries.list_cameras(db)).items
    # Only a camera that uploaded has a snapshot to show (no request bound to fail).
    has_image = {
        camera.id: await camera_queries.latest_image_path(db, camera.id) is not None
        for camera in cameras
    }
    return Template(
        template_name="cameras.html",
        context={
            "page": "cameras",
            "active": "/cameras",
            "cameras": cameras,
            "has_image": has_image,
            "now": dt.datetime.now(dt.UTC),
        },
    )
