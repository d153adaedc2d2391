"""Incidents in PostgreSQL: keyset pages, one incident with its visits, and the incident line
of the events list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Exists, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from homesec.http.errors import NotFound
from homesec.http.pagination import Cursor, after, split_page
from homesec.http.queries.events import to_events
from homesec.http.schemas import incidents as schemas
from homesec.http.schemas.events import Event as EventOut
from homesec.models import Camera, Event, Incident, RiskLevel


def superseded() -> Exists:
    """A later verdict of the same visit supersedes this event."""
    later = aliased(Event)
    return exists(select(literal(1)).where(later.supersedes_event_id == Event.id))


async def _visit_ids(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each incident's visits (events nothing supersedes), oldest first."""
    found: dict[int, list[int]] = {incident_id: [] for incident_id in incident_ids}
    if not incident_ids:
        return found
    rows = await session.execute(
        select(Event.incident_id, Event.id)
        .where(Event.incident_id.in_(list(incident_ids)), ~superseded())
        .order_by(Event.started_at, Event.id)
    )
    for incident_id, event_id in rows:
        found[incident_id].append(event_id)
    return found


async def _camera_names(session: AsyncSession) -> dict[str, str]:
    return dict((await session.execute(select(Camera.id, Camera.name))).all())


async def to_incidents(session: AsyncSession, rows: Sequence[Incident]) -> list[schemas.Incident]:
    visits = await _visit_ids(session, [row.id for row in rows])
    names = await _camera_names(session) if rows else {}
    return [
        schemas.Incident(
            id=row.id,
            started_at=row.started_at,
            ended_at=row.ended_at,
            cameras=[
                schemas.IncidentCamera(
                    camera_id=camera_id, camera_name=names.get(camera_id, camera_id)
                )
                for camera_id in row.camera_ids or []
            ],
            risk_score=row.risk_score,
            risk_level=RiskLevel(row.risk_level) if row.risk_level else None,
            summary=row.summary,
            reasoning=row.reasoning,
            reviewed=row.reviewed,
            visit_count=len(visits[row.id]),
            event_ids=visits[row.id],
        )
        for row in rows
    ]


async def list_incidents(
    session: AsyncSession, reviewed: bool | None, cursor: Cursor | None, limit: int
) -> schemas.IncidentPage:
    statement = select(Incident)
    if reviewed is not None:
        statement = statement.where(Incident.reviewed.is_(reviewed))
    if cursor is not None:
        statement = statement.where(after(Incident.started_at, Incident.id, cursor))
    statement = statement.order_by(Incident.started_at.desc(), Incident.id.desc()).limit(limit + 1)
    rows = (await session.scalars(statement)).all()
    page, next_cursor = split_page(rows, limit, ("started_at", "id"))
    return schemas.IncidentPage(items=await to_incidents(session, page), next_cursor=next_cursor)


async def incidents_by_id(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, schemas.Incident]:
    """These incidents as the API shows them, by id (one gone is left out)."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return {}
    rows = (await session.scalars(select(Incident).where(Incident.id.in_(wanted)))).all()
    return {incident.id: incident for incident in await to_incidents(session, rows)}


async def get_incident(session: AsyncSession, incident_id: int) -> schemas.IncidentDetail:
    row = await session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"no incident with id {incident_id}")
    [incident] = await to_incidents(session, [row])
    events = (
        await session.scalars(
            select(Event)
            .where(Event.id.in_(incident.event_ids))
            .order_by(Event.started_at, Event.id)
        )
    ).all()
    return schemas.IncidentDetail(
        **{field: getattr(incident, field) for field in incident.__struct_fields__},
        visits=await to_events(session, list(events)),
    )


# --- the events list: one line per incident ------------------------------------------------------
def one_line_per_incident(events: list[EventOut]) -> list[EventOut]:
    """The list's events with an incident's visits folded into one line: its newest visit on
    the list stands for it (the list is newest first), the others are left out."""
    shown: list[EventOut] = []
    seen: set[int] = set()
    for event in events:
        if event.incident_id is not None:
            if event.incident_id in seen:
                continue
            seen.add(event.incident_id)
        shown.append(event)
    return shown


async def incidents_of(
    session: AsyncSession, events: list[EventOut]
) -> dict[int, schemas.Incident]:
    """The incidents of the list's events, by id."""
    return await incidents_by_id(
        session, [event.incident_id for event in events if event.incident_id is not None]
    )
