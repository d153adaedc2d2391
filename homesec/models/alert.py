"""``alerts``: the durable outbox, one row per (alert, channel), and the record of what went out.

An addition to the reference data model (migration 0006). The Notifier writes the rows in the
transaction that decides them and delivers the pending ones. ``idempotency_key`` is unique: a
decision made twice cannot queue a second message, and the key travels with the message so a
receiver can drop a repeat. An ``update`` row points at the alert it updates
(``updates_alert_id``); a ``test`` row has no event. Deleting an event (retention) deletes its
alerts; deleting a rule keeps its alerts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from homesec.contract.alerts import AlertKind, AlertStatus
from homesec.models.base import Base, one_of


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("idx_alerts_created_at", "created_at"),
        Index("idx_alerts_event_id", "event_id"),
        # The Notifier's outbox scan: pending rows by when they are due.
        Index(
            "idx_alerts_pending",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("idx_alerts_rule_camera", "rule_id", "camera_id", "created_at"),
        CheckConstraint(one_of("status", AlertStatus), name="status_valid"),
        CheckConstraint(one_of("kind", AlertKind), name="kind_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    camera_id: Mapped[str | None] = mapped_column(String)
    channel: Mapped[str] = mapped_column(String)  # "apprise:1a2b3c4d", "mqtt", "webhook:..."
    kind: Mapped[str] = mapped_column(String, server_default=text("'alert'"))
    updates_alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String)
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged: Mapped[bool] = mapped_column(server_default=false())
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A camera alert's problem (migration 0012); NULL for an event's alert or a test.
    camera_problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("camera_problems.id", ondelete="CASCADE")
    )
