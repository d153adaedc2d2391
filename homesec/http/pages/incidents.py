"""An incident's page (visits on different cameras close in time, issue 23): its story, its
verdict on the whole story, its review, and its visits in order."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from homesec.http.pages.events import EventListParams
from homesec.http.params import RowId
from homesec.http.queries import cameras as camera_queries
from homesec.http.queries import dashboard
from homesec.http.queries import incidents as incident_queries
from homesec.http.schemas.events import Event
from homesec.http.services import DbSession


def _band(event: Event) -> str:
    return event.risk_level.value if event.risk_level else dashboard.UNSCORED


@get("/incidents/{incident_id:str}", include_in_schema=False)
async def incident_page(request: Request, db: DbSession, incident_id: RowId) -> Template:
    view = EventListParams.from_query(request.query_params)
    incident = await incident_queries.get_incident(db, incident_id)
    cameras = (await camera_queries.list_cameras(db)).items
    return Template(
        template_name="incident.html",
        context={
            "page": "incident",
            "active": "/",
            "view": view,
            "incident": incident,
            "cards": await dashboard.event_cards(db, incident.visits),
            "camera_names": {camera.id: camera.name for camera in cameras},
            "band_of": _band,
        },
    )
