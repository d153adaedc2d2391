"""Alerts: rules and a durable outbox of alerts (issue 12).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

``alert_rules`` holds what the owner wants to hear about; ``alerts`` is the outbox and record,
one row per alert and channel, unique by its idempotency key; ``alert_cursor`` is the newest
event the Notifier has decided. A fresh install gets the one default rule (band high or above,
every camera, every configured channel, cooldown 300 s), and the cursor starts at the newest
existing event so an upgrade does not alert on the past.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY = sa.text("'[]'")


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("min_risk_level", sa.String(), nullable=True),
        sa.Column("min_risk_score", sa.Integer(), nullable=True),
        sa.Column("camera_ids", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("object_types", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=True),
        sa.Column("days", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("time_ranges", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("fast_path", sa.Boolean(), nullable=True),
        sa.Column("cooldown_seconds", sa.Integer(), server_default=sa.text("300"), nullable=False),
        sa.Column("channels", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "min_risk_level IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_alert_rules_min_risk_level_valid"),
        ),
        sa.CheckConstraint(
            "min_risk_score >= 0 AND min_risk_score <= 100",
            name=op.f("ck_alert_rules_min_score_range"),
        ),
        sa.CheckConstraint(
            "min_confidence >= 0 AND min_confidence <= 1",
            name=op.f("ck_alert_rules_confidence_range"),
        ),
        sa.CheckConstraint(
            "cooldown_seconds >= 0", name=op.f("ck_alert_rules_cooldown_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("camera_id", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), server_default=sa.text("'alert'"), nullable=False),
        sa.Column("updates_alert_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'suppressed_cooldown', "
            "'suppressed_quiet_hours')",
            name=op.f("ck_alerts_status_valid"),
        ),
        sa.CheckConstraint(
            "kind IN ('alert', 'update', 'test')", name=op.f("ck_alerts_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_alerts_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alerts_rule_id_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updates_alert_id"],
            ["alerts.id"],
            name=op.f("fk_alerts_updates_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_alerts_idempotency_key")),
    )
    op.create_index("idx_alerts_created_at", "alerts", ["created_at"])
    op.create_index("idx_alerts_event_id", "alerts", ["event_id"])
    op.create_index(
        "idx_alerts_pending",
        "alerts",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("idx_alerts_rule_camera", "alerts", ["rule_id", "camera_id", "created_at"])
    op.create_table(
        "alert_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_cursor")),
    )
    op.execute(
        "INSERT INTO alert_rules (name, min_risk_level, cooldown_seconds) "
        "VALUES ('High risk or above', 'high', 300)"
    )
    op.execute(
        "INSERT INTO alert_cursor (id, last_event_id) "
        "SELECT 1, COALESCE(MAX(id), 0) FROM events"
    )


def downgrade() -> None:
    op.drop_table("alert_cursor")
    op.drop_index("idx_alerts_rule_camera", table_name="alerts")
    op.drop_index("idx_alerts_pending", table_name="alerts")
    op.drop_index("idx_alerts_event_id", table_name="alerts")
    op.drop_index("idx_alerts_created_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
