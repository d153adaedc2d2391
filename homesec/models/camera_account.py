"""``camera_accounts``: a camera's FTP login, one per camera; only a hash of the password.

An addition to the reference data model: cameras upload to homesec's own FTP server, each with
its own account confined to its folder. Deleting the camera deletes its account (cascade).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class CameraAccount(Base):
    __tablename__ = "camera_accounts"
    __table_args__ = (UniqueConstraint("camera_id"), UniqueConstraint("username"))

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String, ForeignKey("cameras.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(100))
    # "scrypt$n=..,r=..,p=..$salt$hash" (homesec.policy.camera_accounts)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
