"""``gpu_stats``: one sample of one GPU's load, written by the GpuMonitor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from homesec.models.base import Base


class GPUStats(Base):
    __tablename__ = "gpu_stats"
    __table_args__ = (Index("idx_gpu_stats_recorded_at", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    gpu_name: Mapped[str | None] = mapped_column(String(255))
    gpu_utilization: Mapped[float | None] = mapped_column(Float)
    memory_used: Mapped[int | None]  # MB
    memory_total: Mapped[int | None]  # MB
    temperature: Mapped[float | None] = mapped_column(Float)  # Celsius
    power_usage: Mapped[float | None] = mapped_column(Float)  # Watts
    inference_fps: Mapped[float | None] = mapped_column(Float)
