"""Camera zones (issue 23): named polygons that watch or ignore, and where detections stood.

``camera_zones`` holds each camera's zones, one row per zone in the order drawn. Two additions to
existing tables, both harmless to older rows: ``detections.zones``, the names of the zones that
held a detection's footpoint (NULL for rows stored before zones, empty for none), and
``alert_rules.zones``, the zones an event must have a detection in for the rule to match (empty:
anywhere).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_zones",
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("points", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("objects", postgresql.ARRAY(sa.String()), nullable=True),
        sa.CheckConstraint(
            "action IN ('watch', 'ignore')", name=op.f("ck_camera_zones_action_valid")
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_zones_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", "position", name=op.f("pk_camera_zones")),
    )
    op.add_column("detections", sa.Column("zones", postgresql.ARRAY(sa.String()), nullable=True))
    op.add_column(
        "alert_rules",
        sa.Column(
            "zones",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("alert_rules", "zones")
    op.drop_column("detections", "zones")
    op.drop_table("camera_zones")
