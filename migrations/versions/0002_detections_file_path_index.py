"""Index detections by their source image's path.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

The detector (redelivered jobs), the janitor (shared files, expired ledger rows) and backfills
(--reprocess) look detections up by file_path; without an index each lookup scans the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("idx_detections_file_path", "detections", ["file_path"])


def downgrade() -> None:
    op.drop_index("idx_detections_file_path", table_name="detections")
