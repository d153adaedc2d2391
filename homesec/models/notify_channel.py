"""``notify_channels``: the alert channels the owner added on the Alerts page.

An addition to the reference data model (migration 0008). Channels of the environment
(``NOTIFY_URLS``, ``WEBHOOK_URLS``, ``MQTT_URL``) are not stored here. ``url`` is the secret-bearing
address, stored because the Notifier needs it to send; it is read only by the Notifier and
never leaves the data layer otherwise (the API and the page show ``label`` and a masked form).
``label`` is derived from the URL when it is added (service and host, never a secret).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, Text, UniqueConstraint, func, true
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class NotifyChannelRow(Base):
    __tablename__ = "notify_channels"
    __table_args__ = (
        UniqueConstraint("url"),
        CheckConstraint("kind IN ('apprise', 'webhook')", name="kind_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
