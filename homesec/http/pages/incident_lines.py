"""How the events list shows an incident (visits on different cameras close in time, issue 23):
one line for it, where its newest visit on the list stands."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.queries import incidents as incident_queries
from homesec.http.schemas.events import Event
from homesec.http.schemas.incidents import Incident


def one_line_per_incident(events: list[Event]) -> list[Event]:
    """The list's events with an incident's visits folded into one line: its newest visit on
    the list stands for it (the list is newest first), the others are left out."""
    shown: list[Event] = []
    seen: set[int] = set()
    for event in events:
        if event.incident_id is not None:
            if event.incident_id in seen:
                continue
            seen.add(event.incident_id)
        shown.append(event)
    return shown


async def incidents_of(db: AsyncSession, events: list[Event]) -> dict[int, Incident]:
    """The incidents of the list's events, by id."""
    return await incident_queries.incidents_by_id(
        db, [event.incident_id for event in events if event.incident_id is not None]
    )
