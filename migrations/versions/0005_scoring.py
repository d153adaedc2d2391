"""One visit, one verdict: superseded events, engine columns, camera roles, baselines (issue 13).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

Reserved so that work on parallel branches shares one revision chain; filled in by its issue.
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
