"""Incidents (issue 23, "knows the house"): visits on different cameras close in time are one
incident.

- ``incidents``: one row per incident: when it started and ended (its visits' first and last
  pictures), the cameras it crossed in order, its score and band on the whole story, the story
  in words (``summary``), the last assessment's reasoning, and the owner's review.
- ``events.incident_id``: the incident an event's visit belongs to; NULL: a visit alone. ON
  DELETE SET NULL: an incident deleted leaves its events standing alone.

Additions only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "camera_ids",
            postgresql.ARRAY(sa.String()),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        sa.Column("risk_level", sa.String(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("reviewed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint(
            "risk_score >= 0 AND risk_score <= 100", name=op.f("ck_incidents_risk_score_range")
        ),
        sa.CheckConstraint(
            "risk_level IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_incidents_risk_level_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("idx_incidents_started_at", "incidents", ["started_at"])
    op.create_index("idx_incidents_ended_at", "incidents", ["ended_at"])
    op.add_column("events", sa.Column("incident_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_events_incident_id_incidents"),
        "events",
        "incidents",
        ["incident_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("idx_events_incident_id", "events", ["incident_id"])


def downgrade() -> None:
    op.drop_index("idx_events_incident_id", table_name="events")
    op.drop_constraint(op.f("fk_events_incident_id_incidents"), "events", type_="foreignkey")
    op.drop_column("events", "incident_id")
    op.drop_index("idx_incidents_ended_at", table_name="incidents")
    op.drop_index("idx_incidents_started_at", table_name="incidents")
    op.drop_table("incidents")
