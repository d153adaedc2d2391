"""``timeline_looks``: when each viewer last looked at the timeline (migration 0013, issue 24).

One row per viewer: the hash of the API key a dashboard session logged in with, or ``house``
when keys are off. ``looked_at`` is the latest view; ``previous_at`` the last view of the look
before it, where "since I last looked" starts (:mod:`homesec.policy.last_look`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class TimelineLook(Base):
    __tablename__ = "timeline_looks"

    viewer: Mapped[str] = mapped_column(String(64), primary_key=True)
    looked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
