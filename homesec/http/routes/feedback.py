"""``/api/events/{id}/feedback``: what people said about an event's scoring."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from homesec.http.errors import BadRequest
from homesec.http.openapi import problems
from homesec.http.params import RowId
from homesec.http.queries import feedback as queries
from homesec.http.schemas.feedback import Feedback, FeedbackCreate, FeedbackList
from homesec.http.services import DbSession
from homesec.models.enums import FeedbackKind


class FeedbackController(Controller):
    path = "/api/events/{event_id:str}/feedback"
    tags = ["events"]

    @get(responses=problems(404))
    async def list_feedback(self, db: DbSession, event_id: RowId) -> FeedbackList:
        return await queries.list_feedback(db, event_id)

    @post(responses=problems(404))
    async def add_feedback(
        self, db: DbSession, event_id: RowId, data: JSONBody[FeedbackCreate]
    ) -> Feedback:
        """Record ``false_alarm``, or ``wrong_severity`` with the band it ``should_be``; kept
        for the analysis work, the event's own score never changes."""
        wrong_severity = data.feedback is FeedbackKind.WRONG_SEVERITY
        if wrong_severity and data.should_be is None:
            raise BadRequest("wrong_severity needs should_be: low, medium, high or critical")
        if not wrong_severity and data.should_be is not None:
            raise BadRequest("should_be goes only with wrong_severity")
        return await queries.add_feedback(db, event_id, data)
