"""``/api/incidents``: visits on different cameras close in time, as one incident (issue 23)."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.params import FromQuery, JSONBody

from homesec.http.errors import NotFound
from homesec.http.openapi import problems
from homesec.http.pagination import decode_cursor
from homesec.http.params import DEFAULT_LIMIT, Limit, PageCursor, RowId
from homesec.http.queries import incidents as queries
from homesec.http.schemas.incidents import IncidentDetail, IncidentPage, IncidentUpdate
from homesec.http.services import DbSession, ServicesDep
from homesec.store import incidents as store_incidents


class IncidentController(Controller):
    path = "/api/incidents"
    tags = ["incidents"]

    @get()
    async def list_incidents(
        self,
        db: DbSession,
        reviewed: FromQuery[bool | None] = None,
        cursor: PageCursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> IncidentPage:
        """Incidents, newest first: each with its cameras in order, its story, its verdict on
        the whole story and the ids of its visits (events)."""
        position = decode_cursor(cursor) if cursor else None
        return await queries.list_incidents(db, reviewed, position, limit)

    @get("/{incident_id:str}", responses=problems(404))
    async def get_incident(self, db: DbSession, incident_id: RowId) -> IncidentDetail:
        """One incident with its visits (events), oldest first."""
        return await queries.get_incident(db, incident_id)

    @patch("/{incident_id:str}", responses=problems(404))
    async def review_incident(
        self,
        db: DbSession,
        services: ServicesDep,
        incident_id: RowId,
        data: JSONBody[IncidentUpdate],
    ) -> IncidentDetail:
        """Mark the incident reviewed (or not): every visit of it, and their preliminary
        verdicts, with it."""
        if not await store_incidents.review_incident(
            services.sessions, incident_id, reviewed=data.reviewed
        ):
            raise NotFound(f"no incident with id {incident_id}")
        return await queries.get_incident(db, incident_id)
