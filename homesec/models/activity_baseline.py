"""``activity_baselines``: how many visits a camera had at one local weekday and hour.

An addition to the reference data model (which keeps ``ActivityBaseline`` for the same purpose):
derived data, updated as each visit's event is stored and rebuilt from the events by
``homesec backfill --rebuild-baselines``; the decay is :mod:`homesec.policy.baselines`'s. It
goes with its camera (cascade).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class ActivityBaseline(Base):
    """How many visits (decayed) a camera had at one local weekday and hour."""

    __tablename__ = "activity_baselines"
    __table_args__ = (
        CheckConstraint("hour >= 0 AND hour <= 23", name="hour_range"),
        CheckConstraint("day_of_week >= 0 AND day_of_week <= 6", name="day_of_week_range"),
    )

    camera_id: Mapped[str] = mapped_column(
        String, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    day_of_week: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # Monday 0
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    visits: Mapped[float] = mapped_column(Float)
    last_visit_on: Mapped[date] = mapped_column(Date)  # local date; visits weighs as of then
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
