"""Camera FTP accounts: one login per camera for homesec's built-in FTP server.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Only a scrypt hash of each password is stored. The account goes with its camera (cascade).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_accounts_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_accounts")),
        sa.UniqueConstraint("camera_id", name=op.f("uq_camera_accounts_camera_id")),
        sa.UniqueConstraint("username", name=op.f("uq_camera_accounts_username")),
    )


def downgrade() -> None:
    op.drop_table("camera_accounts")
