"""Alerts: an update that is no news is recorded as ``suppressed_unchanged`` (issue 22).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10

A visit's update (the batch's verdict after its fast-path alert) that keeps the band and moves
the score by no more than ``NOTIFY_UPDATE_MIN_SCORE_CHANGE`` is not pushed again; its Apprise row
says so with the new status. Only the CHECK on ``alerts.status`` changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("pending", "sent", "failed", "suppressed_cooldown", "suppressed_quiet_hours")
AFTER = (*BEFORE, "suppressed_unchanged")


def _status_check(statuses: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_alerts_status_valid"), "alerts", type_="check")
    listed = ", ".join(f"'{status}'" for status in statuses)
    op.create_check_constraint(op.f("ck_alerts_status_valid"), "alerts", f"status IN ({listed})")


def upgrade() -> None:
    _status_check(AFTER)


def downgrade() -> None:
    # The older CHECK does not know these rows (records of pushes not made): they go.
    op.execute("DELETE FROM alerts WHERE status = 'suppressed_unchanged'")
    _status_check(BEFORE)
