"""``/api/cameras/{id}/zones``: a camera's zones, read and replaced as one list."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from homesec.contract.zones import Zone
from homesec.http.errors import BadRequest, NotFound
from homesec.http.openapi import problems
from homesec.http.queries import cameras as queries
from homesec.http.routes.cameras import CameraId
from homesec.http.services import DbSession, ServicesDep
from homesec.policy.scene import HOUSE_CLASSES
from homesec.policy.zones import InvalidZones, ZoneDraft, checked_zones
from homesec.store import camera_zones


class CameraZoneController(Controller):
    path = "/api/cameras/{camera_id:str}/zones"
    tags = ["cameras"]

    @get(responses=problems(404))
    async def get_zones(self, db: DbSession, camera_id: CameraId) -> list[Zone]:
        """The camera's zones in the order drawn; ``[]`` when it has none."""
        await queries.get_camera(db, camera_id)  # 404 for a camera that is not there
        return (await camera_zones.zones_in(db, [camera_id])).get(camera_id, [])

    @put(responses=problems(400, 404))
    async def put_zones(
        self, services: ServicesDep, camera_id: CameraId, data: JSONBody[list[ZoneDraft]]
    ) -> list[Zone]:
        """Replace the camera's whole list of zones (``[]`` removes them all). Each zone: a
        ``name``, ``points`` (3 or more ``[x, y]`` fractions of the frame, 0..1 from the left
        and the top, not crossing themselves), ``action`` (``watch`` or ``ignore``) and, if it
        applies to some classes only, ``objects`` (``["car", "person"]``). The detector uses
        them from its next batch on."""
        # The house's classes are the ones a zone may name; with DETECTION_OBJECT_TYPES=all,
        # the house's default classes.
        known = services.settings.detection_object_types or HOUSE_CLASSES
        try:
            zones = checked_zones(data, known)
        except InvalidZones as exc:
            raise BadRequest(str(exc)) from None
        if not await camera_zones.replace_zones(services.sessions, camera_id, zones):
            raise NotFound(f"no camera with id {camera_id!r}")
        return zones
