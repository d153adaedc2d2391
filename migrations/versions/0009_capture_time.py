"""When the picture was taken: ``uploads.captured_at`` and ``detections.captured_at`` (issue 22).

The camera's EXIF ``DateTimeOriginal`` when believable, else when the upload finished (its
mtime); written by the watcher on the ledger row and copied by the detector onto each detection.
An event's ``started_at``/``ended_at`` come from these. Rows from before stay NULL and fall back
to ``detections.detected_at`` (processing time, unchanged). Additions only: nullable, no default.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("uploads", sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "detections", sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("detections", "captured_at")
    op.drop_column("uploads", "captured_at")
