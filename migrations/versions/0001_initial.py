"""Initial schema: the contract's six tables plus the uploads ledger.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand and kept in step with homesec/models by tests/test_models/test_migrations.py
(autogenerate finds nothing to change) and test_contract.py (the database matches the contract).
Constraint names follow the naming convention in homesec/models/base.py and are wrapped in
op.f(): env.py hands that convention to Alembic, which would otherwise apply it a second time
(ck_cameras_status_valid would become ck_cameras_ck_cameras_status_valid).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _camera_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["camera_id"],
        ["cameras.id"],
        name=op.f(f"fk_{table}_camera_id_cameras"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("folder_path", sa.String(), nullable=False),
        sa.Column("status", sa.String(), server_default="online", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.CheckConstraint(
            "status IN ('online', 'offline', 'error')", name=op.f("ck_cameras_status_valid")
        ),
    )

    op.create_table(
        "detections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("file_path", sa.String(), nullable=False),
        sa.Column("file_type", sa.String(), nullable=True),
        sa.Column(
            "detected_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("object_type", sa.String(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("bbox_x", sa.Integer(), nullable=True),
        sa.Column("bbox_y", sa.Integer(), nullable=True),
        sa.Column("bbox_width", sa.Integer(), nullable=True),
        sa.Column("bbox_height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_path", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detections")),
        _camera_fk("detections"),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_detections_confidence_range")
        ),
    )
    op.create_index(op.f("idx_detections_camera_id"), "detections", ["camera_id"])
    op.create_index(op.f("idx_detections_detected_at"), "detections", ["detected_at"])
    op.create_index(op.f("idx_detections_camera_time"), "detections", ["camera_id", "detected_at"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        sa.Column("risk_level", sa.String(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("detection_ids", sa.Text(), nullable=True),
        sa.Column("reviewed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_fast_path", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        _camera_fk("events"),
        sa.UniqueConstraint("batch_id", name=op.f("uq_events_batch_id")),
        sa.CheckConstraint(
            "risk_score >= 0 AND risk_score <= 100", name=op.f("ck_events_risk_score_range")
        ),
        sa.CheckConstraint(
            "risk_level IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_events_risk_level_valid"),
        ),
    )
    op.create_index(op.f("idx_events_camera_id"), "events", ["camera_id"])
    op.create_index(op.f("idx_events_started_at"), "events", ["started_at"])
    op.create_index(op.f("idx_events_risk_score"), "events", ["risk_score"])
    op.create_index(op.f("idx_events_reviewed"), "events", ["reviewed"])
    op.create_index(op.f("idx_events_batch_id"), "events", ["batch_id"])

    op.create_table(
        "gpu_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("gpu_name", sa.String(255), nullable=True),
        sa.Column("gpu_utilization", sa.Float(), nullable=True),
        sa.Column("memory_used", sa.Integer(), nullable=True),
        sa.Column("memory_total", sa.Integer(), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("power_usage", sa.Float(), nullable=True),
        sa.Column("inference_fps", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpu_stats")),
    )
    op.create_index(op.f("idx_gpu_stats_recorded_at"), "gpu_stats", ["recorded_at"])

    op.create_table(
        "logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "timestamp", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("component", sa.String(50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("camera_id", sa.String(100), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("detection_id", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(10), server_default="backend", nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
        sa.CheckConstraint(
            "source IN ('backend', 'frontend')", name=op.f("ck_logs_source_valid")
        ),
    )
    op.create_index(op.f("idx_logs_timestamp"), "logs", ["timestamp"])
    op.create_index(op.f("idx_logs_level"), "logs", ["level"])
    op.create_index(op.f("idx_logs_component"), "logs", ["component"])
    op.create_index(op.f("idx_logs_camera_id"), "logs", ["camera_id"])
    op.create_index(op.f("idx_logs_source"), "logs", ["source"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_index(op.f("ix_api_keys_key_hash"), "api_keys", ["key_hash"], unique=True)

    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(), nullable=False),
        sa.Column("file_path", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        _camera_fk("uploads"),
        sa.UniqueConstraint("file_path", name=op.f("uq_uploads_file_path")),
        sa.CheckConstraint(
            "status IN ('queued', 'processing', 'done', 'rejected', 'duplicate', 'failed')",
            name=op.f("ck_uploads_status_valid"),
        ),
    )
    op.create_index(op.f("idx_uploads_camera_status"), "uploads", ["camera_id", "status"])
    op.create_index(op.f("idx_uploads_status_received_at"), "uploads", ["status", "received_at"])
    op.create_index(op.f("idx_uploads_sha256"), "uploads", ["sha256"])


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints; children before their parent.
    for table in ("uploads", "api_keys", "logs", "gpu_stats", "events", "detections", "cameras"):
        op.drop_table(table)
