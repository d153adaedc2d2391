"""``uploads``: the durable ingest ledger, one row per file a camera uploaded.

Redis is ephemeral; this table is what lets the service rebuild its queues after Redis loses
everything, and lets a restarted watcher tell finished files from those still to process.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homesec.models.base import Base, one_of
from homesec.models.enums import UploadStatus

if TYPE_CHECKING:
    from homesec.models.camera import Camera


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("file_path"),
        CheckConstraint(one_of("status", UploadStatus), name="status_valid"),
        # The watcher's scan: this camera's files in a given state.
        Index("idx_uploads_camera_status", "camera_id", "status"),
        # Rebuilding the queue: the oldest queued files first.
        Index("idx_uploads_status_received_at", "status", "received_at"),
        Index("idx_uploads_sha256", "sha256"),
        # A camera's recent frames, for things that stay put (migration 0013).
        Index("idx_uploads_camera_processed", "camera_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String, ForeignKey("cameras.id", ondelete="CASCADE"))
    file_path: Mapped[str] = mapped_column(String)
    # Unknown for a file rejected before it was hashed.
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the picture was taken: EXIF DateTimeOriginal when believable, else when the upload
    # finished (policy/capture_time.py). NULL for rows from before migration 0008, and for
    # rows the detector made for jobs that came without one.
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    camera: Mapped[Camera] = relationship(back_populates="uploads", lazy="raise")
