"""Alerts: rules and a durable outbox of alerts (issue 12).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Reserved so that work on parallel branches shares one revision chain; filled in by its issue.
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
