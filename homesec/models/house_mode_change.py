"""``house_mode_changes``: every change of the house's mode (home, away, night) and who made it.

An addition to the reference data model (migration 0011). The mode in force is the latest row;
no row means ``home``. Rows are only added, never changed, so the table is also the log that
the analyst reads for the mode in force when a picture was taken.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from homesec.contract.enums import HouseMode
from homesec.models.base import Base, one_of


class HouseModeChange(Base):
    __tablename__ = "house_mode_changes"
    __table_args__ = (
        CheckConstraint(one_of("mode", HouseMode), name="mode_valid"),
        Index("idx_house_mode_changes_changed_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A user's or API key's name, "mqtt" or "schedule".
    changed_by: Mapped[str] = mapped_column(String(100))
