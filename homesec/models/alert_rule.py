"""``alert_rules``: what the owner wants to hear about, and where (docs/alerts.md).

An addition to the reference data model (migration 0006). Lists are JSONB arrays (JSONB, not
JSON: it has an equality, which the drift check of defaults needs); an empty list means "any"
(every camera, every class, every day, all day, every configured channel). A fresh install has
one rule: band high or above, every camera, every channel, a 300 s cooldown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Float, String, func, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base, one_of
from homesec.models.enums import RiskLevel

EMPTY_LIST = text("'[]'")


class AlertRuleRow(Base):
    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint(one_of("min_risk_level", RiskLevel), name="min_risk_level_valid"),
        CheckConstraint("min_risk_score >= 0 AND min_risk_score <= 100", name="min_score_range"),
        CheckConstraint("min_confidence >= 0 AND min_confidence <= 1", name="confidence_range"),
        CheckConstraint("cooldown_seconds >= 0", name="cooldown_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(server_default=true())
    min_risk_level: Mapped[str | None] = mapped_column(String)
    min_risk_score: Mapped[int | None]
    camera_ids: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)
    object_types: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)
    min_confidence: Mapped[float | None] = mapped_column(Float)
    days: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)  # ISO weekdays 1-7
    time_ranges: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)  # "HH:MM-HH:MM"
    fast_path: Mapped[bool | None]
    cooldown_seconds: Mapped[int] = mapped_column(server_default=text("300"))
    channels: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)  # channel kinds
    # The house's modes the rule holds in (home, away, night); empty: every mode (migration 0011).
    modes: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)
    # Zone names (migration 0010): the event must have a detection in one of them.
    zones: Mapped[list] = mapped_column(JSONB, server_default=EMPTY_LIST)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
