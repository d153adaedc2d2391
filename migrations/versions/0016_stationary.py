"""Things that stay put (issue 23): which detections sat where one sat before.

``detections.stationary``: the detection's box sat, same kind, where one sat in the camera's
last frames (a parked car); it was stored but opened no visit. ``detections.spot_since``: when
its spot was first seen (its own time when it matched nothing; NULL for older rows), the chain
that remembers a spot across a night. A partial index finds a camera's stationary things for the
cameras page; ``idx_uploads_camera_processed`` finds a camera's recent frames (those where
nothing was detected included). Additions only; older rows read as not stationary.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "detections",
        sa.Column("stationary", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "detections", sa.Column("spot_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("idx_uploads_camera_processed", "uploads", ["camera_id", "processed_at"])
    op.create_index(
        "idx_detections_stationary",
        "detections",
        ["camera_id", "detected_at"],
        postgresql_where=sa.text("stationary"),
    )


def downgrade() -> None:
    op.drop_index("idx_detections_stationary", table_name="detections")
    op.drop_index("idx_uploads_camera_processed", table_name="uploads")
    op.drop_column("detections", "spot_since")
    op.drop_column("detections", "stationary")
