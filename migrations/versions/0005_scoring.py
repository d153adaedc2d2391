"""One visit, one verdict: superseded events, who scored each event, camera roles, baselines
(issue 13).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

- ``events.supersedes_event_id``: the batch event names the fast-path event it supersedes
  (``ON DELETE SET NULL``, indexed);
- ``events.scored_by_engine``, ``scored_by_model``, ``prompt_version``: who scored it (NULL for
  events written before this revision);
- ``cameras.role``: what the camera watches, checked against the known roles; NULL: guessed
  from the name;
- ``class_baselines`` and ``activity_baselines``: the cameras' habits (derived data, rebuilt by
  ``homesec backfill --rebuild-baselines``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("street", "entrance", "driveway", "yard", "garage", "indoor")


def upgrade() -> None:
    op.add_column("events", sa.Column("supersedes_event_id", sa.Integer(), nullable=True))
    op.add_column("events", sa.Column("scored_by_engine", sa.String(length=32), nullable=True))
    op.add_column("events", sa.Column("scored_by_model", sa.String(length=255), nullable=True))
    op.add_column("events", sa.Column("prompt_version", sa.String(length=32), nullable=True))
    op.create_foreign_key(
        op.f("fk_events_supersedes_event_id_events"),
        "events",
        "events",
        ["supersedes_event_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("idx_events_supersedes_event_id", "events", ["supersedes_event_id"])

    op.add_column("cameras", sa.Column("role", sa.String(length=16), nullable=True))
    roles = ", ".join(f"'{role}'" for role in ROLES)
    op.create_check_constraint(op.f("ck_cameras_role_valid"), "cameras", f"role IN ({roles})")

    op.create_table(
        "class_baselines",
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("object_class", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("days_seen", sa.Float(), nullable=False),
        sa.Column("first_seen_on", sa.Date(), nullable=False),
        sa.Column("last_seen_on", sa.Date(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("hour >= 0 AND hour <= 23", name=op.f("ck_class_baselines_hour_range")),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_class_baselines_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "camera_id", "object_class", "hour", name=op.f("pk_class_baselines")
        ),
    )
    op.create_table(
        "activity_baselines",
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("day_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("visits", sa.Float(), nullable=False),
        sa.Column("last_visit_on", sa.Date(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "hour >= 0 AND hour <= 23", name=op.f("ck_activity_baselines_hour_range")
        ),
        sa.CheckConstraint(
            "day_of_week >= 0 AND day_of_week <= 6",
            name=op.f("ck_activity_baselines_day_of_week_range"),
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_activity_baselines_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "camera_id", "day_of_week", "hour", name=op.f("pk_activity_baselines")
        ),
    )


def downgrade() -> None:
    op.drop_table("activity_baselines")
    op.drop_table("class_baselines")
    op.drop_constraint(op.f("ck_cameras_role_valid"), "cameras", type_="check")
    op.drop_column("cameras", "role")
    op.drop_index("idx_events_supersedes_event_id", table_name="events")
    op.drop_constraint(op.f("fk_events_supersedes_event_id_events"), "events", type_="foreignkey")
    op.drop_column("events", "prompt_version")
    op.drop_column("events", "scored_by_model")
    op.drop_column("events", "scored_by_engine")
    op.drop_column("events", "supersedes_event_id")
