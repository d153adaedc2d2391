"""``camera_zones``: a camera's named polygons that watch or ignore what stands in them.

An addition to the reference data model (migration 0010). One row per zone; the API replaces a
camera's whole list at once (``store/camera_zones.py``), and ``position`` keeps the order it was
drawn in. Points are JSONB pairs of fractions of the frame, ``[[x, y], ...]``; ``objects`` NULL
means every class.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from homesec.contract.zones import ZoneAction
from homesec.models.base import Base, one_of


class CameraZoneRow(Base):
    __tablename__ = "camera_zones"
    __table_args__ = (CheckConstraint(one_of("action", ZoneAction), name="action_valid"),)

    camera_id: Mapped[str] = mapped_column(
        String, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(16))
    points: Mapped[list] = mapped_column(JSONB)
    objects: Mapped[list[str] | None] = mapped_column(ARRAY(String))
