"""The dashboard: feedback on events, cameras that can be disabled (issue 11).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Reserved so that work on parallel branches shares one revision chain; filled in by its issue.
"""

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
