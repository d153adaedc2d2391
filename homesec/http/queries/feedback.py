"""``event_feedback`` as the API reads it: one row, an event's rows. Rows are added by
:func:`homesec.store.event_feedback.add_feedback`."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.errors import NotFound
from homesec.http.schemas import feedback as schemas
from homesec.models import Event, EventFeedback


def _feedback(row: EventFeedback) -> schemas.Feedback:
    return msgspec.convert(row, schemas.Feedback, from_attributes=True)


async def _require_event(session: AsyncSession, event_id: int) -> None:
    if await session.get(Event, event_id) is None:
        raise NotFound(f"no event with id {event_id}")


async def get_feedback(session: AsyncSession, feedback_id: int) -> schemas.Feedback:
    row = await session.get(EventFeedback, feedback_id)
    if row is None:
        raise NotFound(f"no feedback with id {feedback_id}")
    return _feedback(row)


async def list_feedback(session: AsyncSession, event_id: int) -> schemas.FeedbackList:
    await _require_event(session, event_id)
    rows = (
        await session.scalars(
            select(EventFeedback)
            .where(EventFeedback.event_id == event_id)
            .order_by(EventFeedback.created_at, EventFeedback.id)
        )
    ).all()
    return schemas.FeedbackList(items=[_feedback(row) for row in rows], count=len(rows))
