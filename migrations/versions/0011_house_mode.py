"""The house's mode (issue 23): ``house_mode_changes`` and ``alert_rules.modes``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

``house_mode_changes`` logs every change of the mode (home, away, night) with who made it; the
latest row is the mode in force, and no row means ``home``, so an upgraded house scores and
alerts as before. ``alert_rules.modes`` lists the modes a rule holds in; the empty list (every
rule after the upgrade) means every mode. Additions only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "house_mode_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "mode IN ('home', 'away', 'night')", name=op.f("ck_house_mode_changes_mode_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house_mode_changes")),
    )
    op.create_index(
        "idx_house_mode_changes_changed_at", "house_mode_changes", ["changed_at"], unique=False
    )
    op.add_column(
        "alert_rules",
        sa.Column(
            "modes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("alert_rules", "modes")
    op.drop_index("idx_house_mode_changes_changed_at", table_name="house_mode_changes")
    op.drop_table("house_mode_changes")
