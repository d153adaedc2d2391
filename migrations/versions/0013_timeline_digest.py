"""The day at a glance (issue 24): the timeline's last looks and the morning digest.

- ``timeline_looks``: per viewer, the latest timeline view and the last view of the look before
  it ("since I last looked").
- the alert kind ``digest``: the morning digest is an outbox row per Apprise channel, without an
  event or a camera; its idempotency key ``digest:<day>:<channel>`` sends it once a day.

Additions only.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ("alert", "update", "test", "camera")
KINDS_AFTER = (*KINDS_BEFORE, "digest")


def _kind_check(kinds: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_alerts_kind_valid"), "alerts", type_="check")
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    op.create_check_constraint(op.f("ck_alerts_kind_valid"), "alerts", f"kind IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "timeline_looks",
        sa.Column("viewer", sa.String(length=64), nullable=False),
        sa.Column("looked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("viewer", name=op.f("pk_timeline_looks")),
    )
    _kind_check(KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE kind = 'digest'")
    _kind_check(KINDS_BEFORE)
    op.drop_table("timeline_looks")
