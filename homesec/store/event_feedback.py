"""The ``event_feedback`` table as the analysis reads it: a camera's recent feedback with the
kinds of objects each event showed, and the calibration made of it
(:mod:`homesec.policy.calibration`), and the owner's feedback the dashboard adds.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import CameraCalibration
from homesec.models import Detection, Event, EventFeedback
from homesec.policy.calibration import WINDOW_DAYS, FeedbackFact, calibrate
from homesec.policy.scene import kind_of
from homesec.store.events import decode_detection_ids
from homesec.store.uploads import chunks

# Rows read at most per camera, newest first: far more than any owner clicks in WINDOW_DAYS,
# and a bound on the work of one analysis.
MAX_ROWS = 1000


async def recent_feedback(
    session: AsyncSession, camera_id: str, since: dt.datetime
) -> list[FeedbackFact]:
    """Feedback given on ``camera_id``'s events from ``since`` on, oldest first, each with the
    kinds of the objects its event showed (detections since deleted show nothing)."""
    rows = (
        await session.execute(
            select(
                func.coalesce(Event.supersedes_event_id, Event.id),
                EventFeedback.created_at,
                EventFeedback.feedback,
                EventFeedback.should_be,
                Event.risk_level,
                Event.detection_ids,
            )
            .join(Event, Event.id == EventFeedback.event_id)
            .where(Event.camera_id == camera_id, EventFeedback.created_at >= since)
            .order_by(EventFeedback.created_at.desc(), EventFeedback.id.desc())
            .limit(MAX_ROWS)
        )
    ).all()
    ids = {i for row in rows for i in decode_detection_ids(row.detection_ids)}
    kind_of_id: dict[int, str] = {}
    for chunk in chunks(sorted(ids)):
        found = await session.execute(
            select(Detection.id, Detection.object_type).where(Detection.id.in_(chunk))
        )
        kind_of_id.update((i, kind_of(object_type)) for i, object_type in found.all())
    facts = [
        FeedbackFact(
            visit_id=visit_id,
            given_at=given_at,
            feedback=feedback,
            should_be=should_be,
            scored=scored,
            kinds=frozenset(
                kind_of_id[i] for i in decode_detection_ids(detection_ids) if i in kind_of_id
            ),
        )
        for visit_id, given_at, feedback, should_be, scored, detection_ids in rows
    ]
    return facts[::-1]


async def load_calibration(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, now: dt.datetime
) -> CameraCalibration | None:
    """``camera_id``'s calibration as of ``now``; None when it has no recent feedback."""
    async with sessions() as session:
        return await calibration_in(session, camera_id, now)


async def calibration_in(
    session: AsyncSession, camera_id: str, now: dt.datetime
) -> CameraCalibration | None:
    """:func:`load_calibration` in the caller's transaction."""
    facts = await recent_feedback(session, camera_id, now - dt.timedelta(days=WINDOW_DAYS))
    return calibrate(facts, now)


async def add_feedback(
    sessions: async_sessionmaker[AsyncSession],
    event_id: int,
    feedback: str,
    should_be: str | None = None,
) -> int | None:
    """Record the owner's feedback on the event; the new row's id, None when there is no such
    event."""
    async with sessions.begin() as session:
        if await session.get(Event, event_id) is None:
            return None
        row = EventFeedback(event_id=event_id, feedback=feedback, should_be=should_be)
        session.add(row)
        await session.flush()
        return row.id
