"""``api_keys``: SHA-256 hashes of the accepted API keys; the keys themselves are never stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func, true
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class APIKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_key_hash", "key_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    is_active: Mapped[bool] = mapped_column(server_default=true())
