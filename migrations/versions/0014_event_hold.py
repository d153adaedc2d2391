"""Evidence (issue 24): an event the owner keeps.

- ``events.held_at``: when the owner put the event on hold ("keep"); NULL: not held. While it is
  set, retention deletes neither the event nor its detections nor their files.
- ``events.hold_note``: why, in the owner's words (optional).

Additions only.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("events", sa.Column("hold_note", sa.Text(), nullable=True))
    # Retention asks "which events are held" at every run: a partial index keeps it cheap.
    op.create_index(
        "idx_events_held", "events", ["id"], postgresql_where=sa.text("held_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("idx_events_held", table_name="events")
    op.drop_column("events", "hold_note")
    op.drop_column("events", "held_at")
