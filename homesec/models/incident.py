"""``incidents``: visits on different cameras close in time, as one story (migration 0017,
issue 23). Its visits are the ``events`` whose ``incident_id`` names it; the decision of which
visit joins which incident is :mod:`homesec.policy.incidents`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text, false, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base, one_of
from homesec.models.enums import RiskLevel


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("idx_incidents_started_at", "started_at"),
        # The Analyst looks for incidents that ended within the window of a new visit.
        Index("idx_incidents_ended_at", "ended_at"),
        CheckConstraint("risk_score >= 0 AND risk_score <= 100", name="risk_score_range"),
        CheckConstraint(one_of("risk_level", RiskLevel), name="risk_level_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its visits' first and last pictures.
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The cameras it crossed, in the order first seen.
    camera_ids: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    # On the whole story: never below its worst visit (policy/incidents.py).
    risk_score: Mapped[int | None]
    risk_level: Mapped[str | None] = mapped_column(String)
    # The story in words ("a person at Driveway at 02:09, then at Back Door at 02:10").
    summary: Mapped[str | None] = mapped_column(Text)
    # The latest assessment made with the whole story before it.
    reasoning: Mapped[str | None] = mapped_column(Text)
    reviewed: Mapped[bool] = mapped_column(server_default=false())
