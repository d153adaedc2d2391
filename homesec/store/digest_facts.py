"""What the morning digest reads (issue 24): a night's visits and the camera problems open
during it. Read only; the digest's words are :mod:`homesec.policy.digest`'s."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from homesec.models import Camera, CameraProblem, Event
from homesec.policy.digest import DigestProblem, DigestVisit

MAX_VISITS = 5000  # a night with more is counted from these (a burst of junk, not a digest)


def _not_superseded():
    """The visit's latest verdict: no later event of the same visit supersedes it."""
    later = aliased(Event)
    return ~exists(select(literal(1)).where(later.supersedes_event_id == Event.id))


async def night_visits(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[DigestVisit]:
    """Visits that started in ``[start, end)``, one per visit (its latest verdict), in time
    order."""
    rows = await session.execute(
        select(Event, Camera.name)
        .outerjoin(Camera, Camera.id == Event.camera_id)
        .where(Event.started_at >= start, Event.started_at < end, _not_superseded())
        .order_by(Event.started_at, Event.id)
        .limit(MAX_VISITS)
    )
    return [
        DigestVisit(
            event_id=event.id,
            camera_name=name or event.camera_id,
            started_at=event.started_at,
            risk_level=event.risk_level,
            risk_score=event.risk_score,
            summary=event.summary,
        )
        for event, name in rows.all()
    ]


async def night_problems(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[DigestProblem]:
    """Camera problems open at some time in ``[start, end)``, oldest first."""
    rows = await session.execute(
        select(CameraProblem, Camera.name)
        .join(Camera, Camera.id == CameraProblem.camera_id)
        .where(
            CameraProblem.started_at < end,
            or_(CameraProblem.cleared_at.is_(None), CameraProblem.cleared_at > start),
        )
        .order_by(CameraProblem.started_at, CameraProblem.id)
    )
    return [
        DigestProblem(
            camera_name=name,
            problem=problem.problem,
            started_at=problem.started_at,
            cleared_at=problem.cleared_at,
        )
        for problem, name in rows.all()
    ]


async def night_facts(
    sessions: async_sessionmaker[AsyncSession], start: dt.datetime, end: dt.datetime
) -> tuple[list[DigestVisit], list[DigestProblem]]:
    async with sessions() as session:
        return await night_visits(session, start, end), await night_problems(session, start, end)
