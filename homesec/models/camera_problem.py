"""``camera_problems``: one row per problem a camera had (migration 0012).

``problem`` is one of :class:`homesec.contract.camera_problems.CameraProblemKind`. A row is open
while ``cleared_at`` is NULL (at most one open row of a kind per camera); the camera's status
shows its open problems. ``decided``: the Notifier has judged it against the alert rules (its
camera alerts, if any, are in ``alerts`` with ``camera_problem_id``). Deleted with its camera.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from homesec.contract.camera_problems import CameraProblemKind
from homesec.models.base import Base, one_of


class CameraProblem(Base):
    __tablename__ = "camera_problems"
    __table_args__ = (
        CheckConstraint(one_of("problem", CameraProblemKind), name="problem_valid"),
        Index(
            "uq_camera_problems_open",
            "camera_id",
            "problem",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
        ),
        Index("idx_camera_problems_undecided", "id", postgresql_where=text("NOT decided")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String, ForeignKey("cameras.id", ondelete="CASCADE"))
    problem: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)  # the numbers behind it, for people
    image_path: Mapped[str | None] = mapped_column(Text)  # the frame that raised it
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided: Mapped[bool] = mapped_column(server_default=false())
