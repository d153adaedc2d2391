"""``cameras``: one row per upload folder; the parent of detections, events and uploads."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, String, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homesec.models.base import Base, one_of
from homesec.models.enums import CameraRole, CameraStatus

# The id is the normalised folder name; re-exported here where the contract's readers look.
from homesec.policy.cameras import InvalidCameraId, normalize_camera_id

if TYPE_CHECKING:
    from homesec.models.detection import Detection
    from homesec.models.event import Event
    from homesec.models.upload import Upload

__all__ = ["Camera", "InvalidCameraId", "normalize_camera_id"]


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (
        CheckConstraint(one_of("status", CameraStatus), name="status_valid"),
        CheckConstraint(one_of("role", CameraRole), name="role_valid"),
    )

    # The contract says "UUID format"; homesec uses the normalised folder name, which a String
    # holds as well, so a restart finds the camera it registered before.
    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    folder_path: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String, server_default=CameraStatus.ONLINE.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # homesec's addition: what the camera watches (street, entrance, driveway, yard, garage,
    # indoor); NULL: guessed from the name when scoring.
    role: Mapped[str | None] = mapped_column(String(16))
    # Off: the camera's uploads are still received and kept, but not analysed (the dashboard's
    # switch, for a camera pointed at a busy street during a party, say).
    enabled: Mapped[bool] = mapped_column(server_default=true())
    # Minutes of silence after which the camera counts as offline (migration 0012); NULL: learnt
    # from its uploads (homesec.policy.camera_offline), never for a camera that uploads on motion.
    offline_after_minutes: Mapped[int | None] = mapped_column()

    # passive_deletes: the database's ON DELETE CASCADE removes the children, so deleting a
    # camera never loads its (possibly huge) history first. lazy="raise": under asyncio an
    # implicit load cannot run anyway; this makes the mistake a clear error at once.
    detections: Mapped[list[Detection]] = relationship(
        back_populates="camera", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="camera", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )
    uploads: Mapped[list[Upload]] = relationship(
        back_populates="camera", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )
