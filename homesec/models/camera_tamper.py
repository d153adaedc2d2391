"""``camera_tamper``: per camera, what its frames usually look like (migration 0012).

``state`` is :class:`homesec.policy.tamper.TamperState` as JSON (sharpness baseline, the small
edge map of the usual scene, the streaks of odd frames): the watcher reads and writes it with
each upload, so what was learnt survives a restart. Deleted with its camera.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class CameraTamper(Base):
    __tablename__ = "camera_tamper"

    camera_id: Mapped[str] = mapped_column(
        String, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
