"""``event_feedback``: what a person said about an event's scoring, for the analysis work.

One row per press of a feedback button on the event's page: ``false_alarm`` (nothing worth a
look happened) or ``wrong_severity`` with the band it ``should_be``. Rows are kept as given
(several per event possible: people change their mind); they go with their event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base, one_of
from homesec.models.enums import FeedbackKind, RiskLevel


class EventFeedback(Base):
    __tablename__ = "event_feedback"
    __table_args__ = (
        CheckConstraint(one_of("feedback", FeedbackKind), name="feedback_valid"),
        CheckConstraint(
            f"should_be IS NULL OR {one_of('should_be', RiskLevel)}", name="should_be_valid"
        ),
        CheckConstraint(
            "(feedback = 'wrong_severity') = (should_be IS NOT NULL)",
            name="should_be_with_wrong_severity",
        ),
        Index("idx_event_feedback_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    feedback: Mapped[str] = mapped_column(String)
    should_be: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
