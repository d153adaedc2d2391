"""``/api/events/{id}/feedback``: what people said about an event's scoring."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from homesec.http.errors import BadRequest, NotFound
from homesec.http.openapi import problems
from homesec.http.params import RowId
from homesec.http.queries import feedback as queries
from homesec.http.schemas.feedback import Feedback, FeedbackCreate, FeedbackList
from homesec.http.services import DbSession, ServicesDep
from homesec.models.enums import FeedbackKind
from homesec.store import event_feedback


class FeedbackController(Controller):
    path = "/api/events/{event_id:str}/feedback"
    tags = ["events"]

    @get(responses=problems(404))
    async def list_feedback(self, db: DbSession, event_id: RowId) -> FeedbackList:
        return await queries.list_feedback(db, event_id)

    @post(responses=problems(404))
    async def add_feedback(
        self, db: DbSession, services: ServicesDep, event_id: RowId, data: JSONBody[FeedbackCreate]
    ) -> Feedback:
        """Record ``false_alarm``, or ``wrong_severity`` with the band it ``should_be``; kept
        for the analysis work, the event's own score never changes."""
        wrong_severity = data.feedback is FeedbackKind.WRONG_SEVERITY
        if wrong_severity and data.should_be is None:
            raise BadRequest("wrong_severity needs should_be: low, medium, high or critical")
        if not wrong_severity and data.should_be is not None:
            raise BadRequest("should_be goes only with wrong_severity")
        feedback_id = await event_feedback.add_feedback(
            services.sessions,
            event_id,
            data.feedback.value,
            data.should_be.value if data.should_be else None,
        )
        if feedback_id is None:
            raise NotFound(f"no event with id {event_id}")
        return await queries.get_feedback(db, feedback_id)
