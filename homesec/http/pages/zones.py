"""A camera's zone editor: its latest snapshot with the zones drawn on it, by mouse or touch.

The page is a shell: ``static/js/zones.js`` reads the list (``GET /api/cameras/{id}/zones``),
draws and edits it, and saves the whole list (``PUT``), whose 400 says what is wrong."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from homesec.contract.zones import ZoneAction
from homesec.http.queries import cameras as camera_queries
from homesec.http.routes.cameras import CameraId
from homesec.http.services import DbSession, ServicesDep
from homesec.policy.scene import HOUSE_CLASSES
from homesec.policy.zones import MAX_POINTS, MAX_ZONES


@get("/cameras/{camera_id:str}/zones", include_in_schema=False)
async def zones_page(db: DbSession, services: ServicesDep, camera_id: CameraId) -> Template:
    camera = await camera_queries.get_camera(db, camera_id)  # 404 for one that is not there
    snapshot = await camera_queries.latest_image_path(db, camera_id)
    return Template(
        template_name="zones.html",
        context={
            "page": "zones",
            "active": "/cameras",
            "camera": camera,
            "has_snapshot": snapshot is not None,
            "actions": [action.value for action in ZoneAction],
            "objects": list(services.settings.detection_object_types or HOUSE_CLASSES),
            "max_zones": MAX_ZONES,
            "max_points": MAX_POINTS,
        },
    )
