"""``class_baselines``: on how many days a kind of object was seen on a camera in one local hour.

An addition to the reference data model (which keeps ``ClassBaseline`` for the same purpose):
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


class ClassBaseline(Base):
    """On how many days (decayed) a kind of object was seen on a camera in one local hour."""

    __tablename__ = "class_baselines"
    __table_args__ = (CheckConstraint("hour >= 0 AND hour <= 23", name="hour_range"),)

    camera_id: Mapped[str] = mapped_column(
        String, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    # The house's kind of object (person, vehicle, animal, large_animal, weapon, bag, other).
    object_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    days_seen: Mapped[float] = mapped_column(Float)
    first_seen_on: Mapped[date] = mapped_column(Date)  # local date
    last_seen_on: Mapped[date] = mapped_column(Date)  # local date; days_seen weighs as of then
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
