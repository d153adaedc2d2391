"""Cameras that go blind (issue 23): each camera's image baseline, its problems, camera alerts.

- ``camera_tamper``: per camera, what its frames usually look like (sharpness baseline, a small
  edge map of its usual scene, the streaks of odd frames), so a restart keeps what was learnt.
- ``camera_problems``: one row per problem a camera had (``lens covered``, ``view moved``,
  ``blurred``, ``offline``), open while ``cleared_at`` is NULL; ``decided`` once the Notifier
  judged it against the alert rules.
- ``alerts.camera_problem_id`` and the alert kind ``camera``: a camera alert is an outbox row
  like an event's, without an event.
- ``cameras.offline_after_minutes``: the owner's silence threshold; NULL: learnt from uploads.

Additions only.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ("alert", "update", "test")
KINDS_AFTER = (*KINDS_BEFORE, "camera")


def _kind_check(kinds: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_alerts_kind_valid"), "alerts", type_="check")
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    op.create_check_constraint(op.f("ck_alerts_kind_valid"), "alerts", f"kind IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "camera_tamper",
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_tamper_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_tamper")),
    )
    op.create_table(
        "camera_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("problem", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("image_path", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "problem IN ('lens covered', 'view moved', 'blurred', 'offline')",
            name=op.f("ck_camera_problems_problem_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_problems_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_problems")),
    )
    # At most one open problem of a kind per camera.
    op.create_index(
        "uq_camera_problems_open",
        "camera_problems",
        ["camera_id", "problem"],
        unique=True,
        postgresql_where=sa.text("cleared_at IS NULL"),
    )
    op.create_index(
        "idx_camera_problems_undecided",
        "camera_problems",
        ["id"],
        postgresql_where=sa.text("NOT decided"),
    )
    op.add_column("alerts", sa.Column("camera_problem_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_alerts_camera_problem_id_camera_problems"),
        "alerts",
        "camera_problems",
        ["camera_problem_id"],
        ["id"],
        ondelete="CASCADE",
    )
    _kind_check(KINDS_AFTER)
    op.add_column("cameras", sa.Column("offline_after_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("cameras", "offline_after_minutes")
    op.execute("DELETE FROM alerts WHERE kind = 'camera'")
    _kind_check(KINDS_BEFORE)
    op.drop_constraint(
        op.f("fk_alerts_camera_problem_id_camera_problems"), "alerts", type_="foreignkey"
    )
    op.drop_column("alerts", "camera_problem_id")
    op.drop_index("idx_camera_problems_undecided", table_name="camera_problems")
    op.drop_index("uq_camera_problems_open", table_name="camera_problems")
    op.drop_table("camera_problems")
    op.drop_table("camera_tamper")
