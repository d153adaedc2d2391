"""``detections``: one row per object found in an uploaded image."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homesec.models.base import Base

if TYPE_CHECKING:
    from homesec.models.camera import Camera


class Detection(Base):
    __tablename__ = "detections"
    __table_args__ = (
        Index("idx_detections_camera_id", "camera_id"),
        Index("idx_detections_detected_at", "detected_at"),
        Index("idx_detections_camera_time", "camera_id", "detected_at"),
        # An addition to the contract: lookups by source image (migration 0002).
        Index("idx_detections_file_path", "file_path"),
        # A camera's stationary things, for the cameras page (migration 0016).
        Index(
            "idx_detections_stationary",
            "camera_id",
            "detected_at",
            postgresql_where=text("stationary"),
        ),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String, ForeignKey("cameras.id", ondelete="CASCADE"))
    file_path: Mapped[str] = mapped_column(String)
    file_type: Mapped[str | None] = mapped_column(String)
    detected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    object_type: Mapped[str | None] = mapped_column(String)
    confidence: Mapped[float | None] = mapped_column(Float)
    bbox_x: Mapped[int | None]
    bbox_y: Mapped[int | None]
    bbox_width: Mapped[int | None]
    bbox_height: Mapped[int | None]
    thumbnail_path: Mapped[str | None] = mapped_column(String)
    # An addition to the contract (migration 0008): when the picture was taken, the upload's
    # ``captured_at``; ``detected_at`` stays the processing time. NULL for older rows.
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An addition to the contract (migration 0010): the names of the camera's zones that held
    # the detection's footpoint; empty: in none; NULL for rows stored before zones.
    zones: Mapped[list[str] | None] = mapped_column(ARRAY(String))
    # An addition to the contract (migration 0016): the box sat, same kind, where one sat in
    # the camera's last frames (a parked car): stored, but it opened no visit; and when its
    # spot was first seen (its own time when it matched nothing; NULL for older rows).
    stationary: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    spot_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    camera: Mapped[Camera] = relationship(back_populates="detections", lazy="raise")
