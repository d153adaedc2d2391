"""What the timeline page reads (issue 24): the cameras, in lane order, and the visits in a
window, one per visit (the events list's own filter: a fast-path event its batch event
supersedes is not drawn beside it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.queries.events import EventFilters, _filtered
from homesec.models import Camera, Event
from homesec.policy.timeline import TimelineVisit

MAX_VISITS = 3000  # a window with more draws these, and the page says so


async def lane_cameras(session: AsyncSession) -> list[tuple[str, str]]:
    """Every camera as (id, name), by name."""
    rows = await session.execute(select(Camera.id, Camera.name).order_by(Camera.name, Camera.id))
    return [(camera_id, name or camera_id) for camera_id, name in rows.all()]


async def visits_between(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, limit: int = MAX_VISITS
) -> list[TimelineVisit]:
    """Visits that started in ``[start, end)``, oldest first; at most ``limit``."""
    window = EventFilters(start_date=start, end_date=end - dt.timedelta(microseconds=1))
    statement = (
        _filtered(
            select(
                Event.id,
                Event.camera_id,
                Event.started_at,
                Event.risk_level,
                Event.risk_score,
                Event.summary,
            ),
            window,
        )
        .order_by(Event.started_at, Event.id)
        .limit(limit)
    )
    return [
        TimelineVisit(
            event_id=event_id,
            camera_id=camera_id,
            started_at=started_at,
            risk_level=risk_level,
            risk_score=risk_score,
            summary=summary,
        )
        for event_id, camera_id, started_at, risk_level, risk_score, summary in (
            await session.execute(statement)
        ).all()
    ]
