"""The dashboard: feedback on events, cameras that can be disabled (issue 11).

``event_feedback`` keeps what a person said about an event's scoring (a false alarm, or the
band it should have had), for the analysis work; ``cameras.enabled`` lets a camera's uploads be
kept without being analysed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cameras", sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.create_table(
        "event_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.String(), nullable=False),
        sa.Column("should_be", sa.String(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_feedback")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            ondelete="CASCADE",
            name=op.f("fk_event_feedback_event_id_events"),
        ),
        sa.CheckConstraint(
            "feedback IN ('false_alarm', 'wrong_severity')",
            name=op.f("ck_event_feedback_feedback_valid"),
        ),
        sa.CheckConstraint(
            "should_be IS NULL OR should_be IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_event_feedback_should_be_valid"),
        ),
        sa.CheckConstraint(
            "(feedback = 'wrong_severity') = (should_be IS NOT NULL)",
            name=op.f("ck_event_feedback_should_be_with_wrong_severity"),
        ),
    )
    op.create_index("idx_event_feedback_event_id", "event_feedback", ["event_id"])


def downgrade() -> None:
    op.drop_index("idx_event_feedback_event_id", table_name="event_feedback")
    op.drop_table("event_feedback")
    op.drop_column("cameras", "enabled")
