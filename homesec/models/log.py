"""``logs``: structured log records from the backend's handler and the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base, one_of
from homesec.models.enums import LogSource


class Log(Base):
    __tablename__ = "logs"
    __table_args__ = (
        Index("idx_logs_timestamp", "timestamp"),
        Index("idx_logs_level", "level"),
        Index("idx_logs_component", "component"),
        Index("idx_logs_camera_id", "camera_id"),
        Index("idx_logs_source", "source"),
        CheckConstraint(one_of("source", LogSource), name="source_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    level: Mapped[str] = mapped_column(String(10))
    component: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    # camera_id, event_id and detection_id are plain values, not foreign keys: a log line must
    # outlive the rows it mentions, and writing one must never fail on a missing parent.
    camera_id: Mapped[str | None] = mapped_column(String(100))
    event_id: Mapped[int | None]
    request_id: Mapped[str | None] = mapped_column(String(36))
    detection_id: Mapped[int | None]
    duration_ms: Mapped[int | None]
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(10), server_default=LogSource.BACKEND.value)
    user_agent: Mapped[str | None] = mapped_column(Text)
