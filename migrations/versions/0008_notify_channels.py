"""Alert channels added on the Alerts page (issue 22).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12

``notify_channels`` holds the Apprise and webhook URLs the owner added on the dashboard, so a
channel is added, tested and removed without editing the environment or restarting homesec. The
environment's channels (``NOTIFY_URLS``, ``WEBHOOK_URLS``, ``MQTT_URL``) are not stored. ``url`` is
the secret-bearing address the Notifier sends to; ``label`` (service and host) is what is shown.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('apprise', 'webhook')", name=op.f("ck_notify_channels_kind_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_channels")),
        sa.UniqueConstraint("url", name=op.f("uq_notify_channels_url")),
    )


def downgrade() -> None:
    op.drop_table("notify_channels")
