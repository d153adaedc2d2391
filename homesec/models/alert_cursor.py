"""``alert_cursor``: the newest event the Notifier has decided alerts for (one row).

An addition to the reference data model (migration 0006). It moves in the same transaction as
the alert rows it decided, so a Notifier that dies mid-way decides the same events again and
writes nothing twice. The migration starts it at the newest existing event, so an upgrade does
not alert on the past.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, func, text
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class AlertCursor(Base):
    __tablename__ = "alert_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)  # the one row is id 1
    last_event_id: Mapped[int] = mapped_column(server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
