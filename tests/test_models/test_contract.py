"""The migrated database against the data-model contract (shared/seeds/data-model.md).

The expected schema is written out here as data, transcribed from the contract, plus what the
design adds (the ``uploads`` ledger, a unique ``events.batch_id``, named CHECKs). It is compared
with what PostgreSQL itself reports, so models, migration and contract cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import CheckConstraint, func, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from homesec.models import (
    APIKey,
    Base,
    Camera,
    CameraStatus,
    Detection,
    Event,
    GPUStats,
    Log,
    LogSource,
    Upload,
    UploadStatus,
)

AUTO = "auto"  # an integer fed by a sequence (SERIAL)
NOW = "now()"

# column -> (type, nullable, default) with PostgreSQL's defaults minus their casts.
CONTRACT_COLUMNS: dict[str, dict[str, tuple[str, bool, str | None]]] = {
    "cameras": {
        "id": ("varchar", False, None),
        "name": ("varchar", False, None),
        "folder_path": ("varchar", False, None),
        "status": ("varchar", False, "'online'"),
        "created_at": ("timestamptz", False, NOW),
        "last_seen_at": ("timestamptz", True, None),
    },
    "detections": {
        "id": ("integer", False, AUTO),
        "camera_id": ("varchar", False, None),
        "file_path": ("varchar", False, None),
        "file_type": ("varchar", True, None),
        "detected_at": ("timestamptz", False, NOW),
        "object_type": ("varchar", True, None),
        "confidence": ("float", True, None),
        "bbox_x": ("integer", True, None),
        "bbox_y": ("integer", True, None),
        "bbox_width": ("integer", True, None),
        "bbox_height": ("integer", True, None),
        "thumbnail_path": ("varchar", True, None),
    },
    "events": {
        "id": ("integer", False, AUTO),
        "batch_id": ("varchar", False, None),
        "camera_id": ("varchar", False, None),
        "started_at": ("timestamptz", False, None),
        "ended_at": ("timestamptz", True, None),
        "risk_score": ("integer", True, None),
        "risk_level": ("varchar", True, None),
        "summary": ("text", True, None),
        "reasoning": ("text", True, None),
        "detection_ids": ("text", True, None),
        "reviewed": ("boolean", False, "false"),
        "notes": ("text", True, None),
        "is_fast_path": ("boolean", False, "false"),
    },
    "gpu_stats": {
        "id": ("integer", False, AUTO),
        "recorded_at": ("timestamptz", False, NOW),
        "gpu_name": ("varchar(255)", True, None),
        "gpu_utilization": ("float", True, None),
        "memory_used": ("integer", True, None),
        "memory_total": ("integer", True, None),
        "temperature": ("float", True, None),
        "power_usage": ("float", True, None),
        "inference_fps": ("float", True, None),
    },
    "logs": {
        "id": ("integer", False, AUTO),
        "timestamp": ("timestamptz", False, NOW),
        "level": ("varchar(10)", False, None),
        "component": ("varchar(50)", False, None),
        "message": ("text", False, None),
        "camera_id": ("varchar(100)", True, None),
        "event_id": ("integer", True, None),
        "request_id": ("varchar(36)", True, None),
        "detection_id": ("integer", True, None),
        "duration_ms": ("integer", True, None),
        "extra": ("json", True, None),
        "source": ("varchar(10)", False, "'backend'"),
        "user_agent": ("text", True, None),
    },
    "api_keys": {
        "id": ("integer", False, AUTO),
        "key_hash": ("varchar(64)", False, None),
        "name": ("varchar(100)", False, None),
        "created_at": ("timestamptz", False, NOW),
        "is_active": ("boolean", False, "true"),
    },
}

# The design's addition: the durable ingest ledger.
ADDED_COLUMNS: dict[str, dict[str, tuple[str, bool, str | None]]] = {
    "uploads": {
        "id": ("integer", False, AUTO),
        "camera_id": ("varchar", False, None),
        "file_path": ("varchar", False, None),
        "sha256": ("varchar(64)", True, None),
        "file_size": ("bigint", True, None),
        "status": ("varchar(16)", False, None),
        "attempts": ("integer", False, "0"),
        "error": ("text", True, None),
        "received_at": ("timestamptz", False, NOW),
        "processed_at": ("timestamptz", True, None),
        # When the picture was taken (migration 0009).
        "captured_at": ("timestamptz", True, None),
    },
    # A camera's FTP login for the built-in server (only a hash of the password).
    "camera_accounts": {
        "id": ("integer", False, AUTO),
        "camera_id": ("varchar", False, None),
        "username": ("varchar(100)", False, None),
        "password_hash": ("varchar(255)", False, None),
        "created_at": ("timestamptz", False, NOW),
        "updated_at": ("timestamptz", False, NOW),
    },
    # The dashboard's feedback on an event's scoring (migration 0004).
    "event_feedback": {
        "id": ("integer", False, AUTO),
        "event_id": ("integer", False, None),
        "feedback": ("varchar", False, None),
        "should_be": ("varchar", True, None),
        "created_at": ("timestamptz", False, NOW),
    },
    # Alerts (migration 0006): the owner's rules, the outbox of alerts, the Notifier's cursor.
    "alert_rules": {
        "id": ("integer", False, AUTO),
        "name": ("varchar(100)", False, None),
        "enabled": ("boolean", False, "true"),
        "min_risk_level": ("varchar", True, None),
        "min_risk_score": ("integer", True, None),
        "camera_ids": ("jsonb", False, "'[]'"),
        "object_types": ("jsonb", False, "'[]'"),
        "min_confidence": ("float", True, None),
        "days": ("jsonb", False, "'[]'"),
        "time_ranges": ("jsonb", False, "'[]'"),
        "fast_path": ("boolean", True, None),
        "cooldown_seconds": ("integer", False, "300"),
        "channels": ("jsonb", False, "'[]'"),
        # The house's modes a rule holds in (migration 0011).
        "modes": ("jsonb", False, "'[]'"),
        "created_at": ("timestamptz", False, NOW),
        "updated_at": ("timestamptz", False, NOW),
    },
    "alerts": {
        "id": ("integer", False, AUTO),
        "event_id": ("integer", True, None),
        "rule_id": ("integer", True, None),
        "camera_id": ("varchar", True, None),
        "channel": ("varchar", False, None),
        "kind": ("varchar", False, "'alert'"),
        "updates_alert_id": ("integer", True, None),
        "status": ("varchar", False, None),
        "attempts": ("integer", False, "0"),
        "last_error": ("text", True, None),
        "idempotency_key": ("varchar", False, None),
        "created_at": ("timestamptz", False, NOW),
        "next_attempt_at": ("timestamptz", False, NOW),
        "sent_at": ("timestamptz", True, None),
        "acknowledged": ("boolean", False, "false"),
        "acknowledged_at": ("timestamptz", True, None),
    },
    "alert_cursor": {
        "id": ("integer", False, AUTO),
        "last_event_id": ("integer", False, "0"),
        "updated_at": ("timestamptz", False, NOW),
    },
}

# Issue 13 (migration 0005): the cameras' habits; then the columns added to contract tables.
ADDED_COLUMNS |= {
    "class_baselines": {
        "camera_id": ("varchar", False, None),
        "object_class": ("varchar(32)", False, None),
        "hour": ("smallint", False, None),
        "days_seen": ("float", False, None),
        "first_seen_on": ("date", False, None),
        "last_seen_on": ("date", False, None),
        "updated_at": ("timestamptz", False, NOW),
    },
    "activity_baselines": {
        "camera_id": ("varchar", False, None),
        "day_of_week": ("smallint", False, None),
        "hour": ("smallint", False, None),
        "visits": ("float", False, None),
        "last_visit_on": ("date", False, None),
        "updated_at": ("timestamptz", False, NOW),
    },
    # Issue 22 (migration 0008): channels the owner added on the Alerts page.
    "notify_channels": {
        "id": ("integer", False, AUTO),
        "kind": ("varchar(20)", False, None),
        "label": ("varchar(200)", False, None),
        "url": ("text", False, None),
        "enabled": ("boolean", False, "true"),
        "created_at": ("timestamptz", False, NOW),
    },
    # Issue 23 (migration 0011): every change of the house's mode and who made it.
    "house_mode_changes": {
        "id": ("integer", False, AUTO),
        "mode": ("varchar(16)", False, None),
        "changed_at": ("timestamptz", False, NOW),
        "changed_by": ("varchar(100)", False, None),
    },
    # Issue 23 (migration 0012): cameras that go blind.
    "camera_tamper": {
        "camera_id": ("varchar", False, None),
        "state": ("jsonb", False, None),
        "updated_at": ("timestamptz", False, NOW),
    },
    "camera_problems": {
        "id": ("integer", False, AUTO),
        "camera_id": ("varchar", False, None),
        "problem": ("varchar(32)", False, None),
        "detail": ("text", True, None),
        "image_path": ("text", True, None),
        "started_at": ("timestamptz", False, None),
        "cleared_at": ("timestamptz", True, None),
        "decided": ("boolean", False, "false"),
    },
    # Issue 24 (migration 0013): each viewer's last look at the timeline.
    "timeline_looks": {
        "viewer": ("varchar(64)", False, None),
        "looked_at": ("timestamptz", False, None),
        "previous_at": ("timestamptz", True, None),
    },
}
# Issue 23 (migration 0012): a camera alert's problem.
ADDED_COLUMNS["alerts"] |= {"camera_problem_id": ("integer", True, None)}
COLUMNS_ADDED_TO_CONTRACT_TABLES: dict[str, dict[str, tuple[str, bool, str | None]]] = {
    "events": {
        "supersedes_event_id": ("integer", True, None),
        "scored_by_engine": ("varchar(32)", True, None),
        "scored_by_model": ("varchar(255)", True, None),
        "prompt_version": ("varchar(32)", True, None),
        # Search (migration 0013): kept by triggers.
        "search_document": ("tsvector", True, None),
    },
    # enabled (migration 0004): off, uploads are kept, not analysed; role (migration 0005).
    # offline_after_minutes (migration 0012): the owner's silence threshold, NULL learnt.
    "cameras": {
        "enabled": ("boolean", False, "true"),
        "role": ("varchar(16)", True, None),
        "offline_after_minutes": ("integer", True, None),
    },
    # When the picture was taken (migration 0009); detected_at stays the processing time.
    "detections": {"captured_at": ("timestamptz", True, None)},
}

# Issue 23 (migration 0010): each camera's zones; the zones a detection stood in; the zones an
# alert rule asks for.
ADDED_COLUMNS |= {
    "camera_zones": {
        "camera_id": ("varchar", False, None),
        "position": ("integer", False, None),
        "name": ("varchar(60)", False, None),
        "action": ("varchar(16)", False, None),
        "points": ("jsonb", False, None),
        "objects": ("ARRAY", True, None),
    },
}
ADDED_COLUMNS["alert_rules"] = ADDED_COLUMNS["alert_rules"] | {"zones": ("jsonb", False, "'[]'")}
COLUMNS_ADDED_TO_CONTRACT_TABLES["detections"] = COLUMNS_ADDED_TO_CONTRACT_TABLES["detections"] | {
    "zones": ("ARRAY", True, None)
}
# Issue 24 (migration 0013): an event the owner keeps out of retention, and why.
COLUMNS_ADDED_TO_CONTRACT_TABLES["events"] = COLUMNS_ADDED_TO_CONTRACT_TABLES["events"] | {
    "held_at": ("timestamptz", True, None),
    "hold_note": ("text", True, None),
}
# Issue 23 (migration 0016): things that stay put (a parked car), and when their spot was seen.
COLUMNS_ADDED_TO_CONTRACT_TABLES["detections"] = COLUMNS_ADDED_TO_CONTRACT_TABLES["detections"] | {
    "stationary": ("boolean", False, "false"),
    "spot_since": ("timestamptz", True, None),
}
# Issue 23 (migration 0017): incidents, visits on different cameras close in time as one story.
ADDED_COLUMNS["incidents"] = {
    "id": ("integer", False, AUTO),
    "started_at": ("timestamptz", False, None),
    "ended_at": ("timestamptz", False, None),
    "camera_ids": ("ARRAY", False, "'{}'::character varying[]"),
    "risk_score": ("integer", True, None),
    "risk_level": ("varchar", True, None),
    "summary": ("text", True, None),
    "reasoning": ("text", True, None),
    "reviewed": ("boolean", False, "false"),
}
COLUMNS_ADDED_TO_CONTRACT_TABLES["events"] = COLUMNS_ADDED_TO_CONTRACT_TABLES["events"] | {
    "incident_id": ("integer", True, None),
}

EXPECTED_COLUMNS = {
    table: columns | COLUMNS_ADDED_TO_CONTRACT_TABLES.get(table, {})
    for table, columns in (CONTRACT_COLUMNS | ADDED_COLUMNS).items()
}

# index name -> (table, columns in order, unique): the contract's "Index Summary".
CONTRACT_INDEXES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "idx_detections_camera_id": ("detections", ("camera_id",), False),
    "idx_detections_detected_at": ("detections", ("detected_at",), False),
    "idx_detections_camera_time": ("detections", ("camera_id", "detected_at"), False),
    "idx_events_camera_id": ("events", ("camera_id",), False),
    "idx_events_started_at": ("events", ("started_at",), False),
    "idx_events_risk_score": ("events", ("risk_score",), False),
    "idx_events_reviewed": ("events", ("reviewed",), False),
    "idx_events_batch_id": ("events", ("batch_id",), False),
    "idx_gpu_stats_recorded_at": ("gpu_stats", ("recorded_at",), False),
    "idx_logs_timestamp": ("logs", ("timestamp",), False),
    "idx_logs_level": ("logs", ("level",), False),
    "idx_logs_component": ("logs", ("component",), False),
    "idx_logs_camera_id": ("logs", ("camera_id",), False),
    "idx_logs_source": ("logs", ("source",), False),
    "ix_api_keys_key_hash": ("api_keys", ("key_hash",), True),
}

ADDED_INDEXES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "uq_events_batch_id": ("events", ("batch_id",), True),
    "uq_uploads_file_path": ("uploads", ("file_path",), True),
    "idx_uploads_camera_status": ("uploads", ("camera_id", "status"), False),
    "idx_uploads_status_received_at": ("uploads", ("status", "received_at"), False),
    "idx_uploads_sha256": ("uploads", ("sha256",), False),
    "idx_detections_file_path": ("detections", ("file_path",), False),
    "uq_camera_accounts_camera_id": ("camera_accounts", ("camera_id",), True),
    "uq_camera_accounts_username": ("camera_accounts", ("username",), True),
    "idx_events_supersedes_event_id": ("events", ("supersedes_event_id",), False),
    "idx_events_search_document": ("events", ("search_document",), False),
    "idx_event_feedback_event_id": ("event_feedback", ("event_id",), False),
    "uq_alerts_idempotency_key": ("alerts", ("idempotency_key",), True),
    "idx_alerts_created_at": ("alerts", ("created_at",), False),
    "idx_alerts_event_id": ("alerts", ("event_id",), False),
    "idx_alerts_pending": ("alerts", ("next_attempt_at",), False),
    "idx_alerts_rule_camera": ("alerts", ("rule_id", "camera_id", "created_at"), False),
    "uq_notify_channels_url": ("notify_channels", ("url",), True),
    "idx_house_mode_changes_changed_at": ("house_mode_changes", ("changed_at",), False),
    # Issue 23 (migration 0012): one open problem of a kind per camera; the undecided ones.
    "uq_camera_problems_open": ("camera_problems", ("camera_id", "problem"), True),
    "idx_camera_problems_undecided": ("camera_problems", ("id",), False),
    # Issue 23 (migration 0016): a camera's stationary things; a camera's recent frames.
    "idx_detections_stationary": ("detections", ("camera_id", "detected_at"), False),
    "idx_uploads_camera_processed": ("uploads", ("camera_id", "processed_at"), False),
}

COMPOSITE_PRIMARY_KEYS = {
    "class_baselines": ("camera_id", "object_class", "hour"),
    "activity_baselines": ("camera_id", "day_of_week", "hour"),
    "camera_tamper": ("camera_id",),
    "timeline_looks": ("viewer",),
    "camera_zones": ("camera_id", "position"),
}
PRIMARY_KEY_INDEXES = {
    f"pk_{table}": (table, COMPOSITE_PRIMARY_KEYS.get(table, ("id",)), True)
    for table in EXPECTED_COLUMNS
}

# Issue 24 (migration 0013): the held events, partial (held_at IS NOT NULL), read by retention.
ADDED_INDEXES["idx_events_held"] = ("events", ("id",), False)
# Issue 23 (migration 0017): an incident's events; incidents near a new visit, and by age.
ADDED_INDEXES["idx_events_incident_id"] = ("events", ("incident_id",), False)
ADDED_INDEXES["idx_incidents_started_at"] = ("incidents", ("started_at",), False)
ADDED_INDEXES["idx_incidents_ended_at"] = ("incidents", ("ended_at",), False)
EXPECTED_INDEXES = CONTRACT_INDEXES | ADDED_INDEXES | PRIMARY_KEY_INDEXES

# (table, column) -> (referenced table, referenced column, ON DELETE)
EXPECTED_FOREIGN_KEYS = {
    ("detections", "camera_id"): ("cameras", "id", "CASCADE"),
    ("events", "camera_id"): ("cameras", "id", "CASCADE"),
    ("uploads", "camera_id"): ("cameras", "id", "CASCADE"),
    ("camera_accounts", "camera_id"): ("cameras", "id", "CASCADE"),
    ("events", "supersedes_event_id"): ("events", "id", "SET NULL"),
    ("class_baselines", "camera_id"): ("cameras", "id", "CASCADE"),
    ("activity_baselines", "camera_id"): ("cameras", "id", "CASCADE"),
    ("event_feedback", "event_id"): ("events", "id", "CASCADE"),
    ("alerts", "event_id"): ("events", "id", "CASCADE"),
    ("alerts", "rule_id"): ("alert_rules", "id", "SET NULL"),
    ("alerts", "updates_alert_id"): ("alerts", "id", "CASCADE"),
    ("alerts", "camera_problem_id"): ("camera_problems", "id", "CASCADE"),
    ("camera_problems", "camera_id"): ("cameras", "id", "CASCADE"),
    ("camera_tamper", "camera_id"): ("cameras", "id", "CASCADE"),
    ("camera_zones", "camera_id"): ("cameras", "id", "CASCADE"),
    ("events", "incident_id"): ("incidents", "id", "SET NULL"),
}

EXPECTED_CHECKS = {
    "ck_cameras_status_valid",
    "ck_detections_confidence_range",
    "ck_events_risk_score_range",
    "ck_events_risk_level_valid",
    "ck_logs_source_valid",
    "ck_uploads_status_valid",
    "ck_cameras_role_valid",
    "ck_class_baselines_hour_range",
    "ck_activity_baselines_hour_range",
    "ck_activity_baselines_day_of_week_range",
    "ck_event_feedback_feedback_valid",
    "ck_event_feedback_should_be_valid",
    "ck_event_feedback_should_be_with_wrong_severity",
    "ck_alert_rules_min_risk_level_valid",
    "ck_alert_rules_min_score_range",
    "ck_alert_rules_confidence_range",
    "ck_alert_rules_cooldown_not_negative",
    "ck_alerts_status_valid",
    "ck_alerts_kind_valid",
    "ck_notify_channels_kind_valid",
    "ck_house_mode_changes_mode_valid",
    "ck_camera_problems_problem_valid",
    "ck_camera_zones_action_valid",
    "ck_incidents_risk_score_range",
    "ck_incidents_risk_level_valid",
}

_TYPE_NAMES = {
    "character varying": "varchar",
    "timestamp with time zone": "timestamptz",
    "double precision": "float",
}


def _column_type(data_type: str, max_length: int | None) -> str:
    name = _TYPE_NAMES.get(data_type, data_type)
    return f"{name}({max_length})" if max_length is not None else name


def _column_default(default: str | None) -> str | None:
    if default is None:
        return None
    if default.startswith("nextval("):
        return AUTO
    return re.sub(r"::[a-z ]+$", "", default)  # 'online'::character varying -> 'online'


async def _rows(engine: AsyncEngine, sql: str, **params: object) -> list[tuple]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql), params)]


# --- the schema ------------------------------------------------------------------------------


async def test_tables_are_exactly_the_contract_plus_uploads(db_engine: AsyncEngine) -> None:
    tables = await _rows(db_engine, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert {table for (table,) in tables} == set(EXPECTED_COLUMNS) | {"alembic_version"}


@pytest.mark.parametrize("table", sorted(EXPECTED_COLUMNS))
async def test_columns_match_the_contract(db_engine: AsyncEngine, table: str) -> None:
    rows = await _rows(
        db_engine,
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :table",
        table=table,
    )
    actual = {
        name: (_column_type(data_type, length), nullable == "YES", _column_default(default))
        for name, data_type, length, nullable, default in rows
    }
    assert actual == EXPECTED_COLUMNS[table]


async def test_indexes_are_exactly_the_expected_ones(db_engine: AsyncEngine) -> None:
    rows = await _rows(
        db_engine,
        """
        SELECT index_class.relname, table_class.relname, index.indisunique,
               array_agg(attribute.attname ORDER BY key.position)
        FROM pg_index AS index
        JOIN pg_class AS index_class ON index_class.oid = index.indexrelid
        JOIN pg_class AS table_class ON table_class.oid = index.indrelid
        JOIN pg_namespace AS namespace ON namespace.oid = table_class.relnamespace
        CROSS JOIN LATERAL unnest(index.indkey) WITH ORDINALITY AS key(attnum, position)
        JOIN pg_attribute AS attribute
          ON attribute.attrelid = table_class.oid AND attribute.attnum = key.attnum
        WHERE namespace.nspname = 'public' AND table_class.relname <> 'alembic_version'
        GROUP BY index_class.relname, table_class.relname, index.indisunique
        """,
    )
    actual = {name: (table, tuple(columns), unique) for name, table, unique, columns in rows}
    # One assertion per contract index first, so a failure names the index that is off.
    for name, expected in CONTRACT_INDEXES.items():
        assert actual.get(name) == expected, name
    assert actual == EXPECTED_INDEXES


async def test_foreign_keys_cascade_from_cameras(db_engine: AsyncEngine) -> None:
    rows = await _rows(
        db_engine,
        """
        SELECT constraint_row.conrelid::regclass::text, attribute.attname,
               constraint_row.confrelid::regclass::text, referenced.attname,
               constraint_row.confdeltype::text
        FROM pg_constraint AS constraint_row
        JOIN pg_attribute AS attribute ON attribute.attrelid = constraint_row.conrelid
             AND attribute.attnum = constraint_row.conkey[1]
        JOIN pg_attribute AS referenced ON referenced.attrelid = constraint_row.confrelid
             AND referenced.attnum = constraint_row.confkey[1]
        WHERE constraint_row.contype = 'f'
          AND constraint_row.connamespace = 'public'::regnamespace
        """,
    )
    on_delete = {"c": "CASCADE", "a": "NO ACTION", "r": "RESTRICT", "n": "SET NULL"}
    actual = {
        (table, column): (ref_table, ref_column, on_delete.get(action, action))
        for table, column, ref_table, ref_column, action in rows
    }
    assert actual == EXPECTED_FOREIGN_KEYS


async def test_check_constraints_are_named_and_match_the_models(db_engine: AsyncEngine) -> None:
    rows = await _rows(
        db_engine,
        "SELECT conname FROM pg_constraint "
        "WHERE contype = 'c' AND connamespace = 'public'::regnamespace",
    )
    assert {name for (name,) in rows} == EXPECTED_CHECKS
    # Autogenerate compares CHECKs by name only, never their text; the behaviour tests below
    # cover what each one refuses.
    model_checks = {
        str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert model_checks == EXPECTED_CHECKS


# --- behaviour -------------------------------------------------------------------------------

NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _camera(camera_id: str = "front_door", **values: object) -> Camera:
    return Camera(id=camera_id, name=camera_id.title(), folder_path=f"/x/{camera_id}", **values)


def _event(batch_id: str = "batch-1", **values: object) -> Event:
    return Event(batch_id=batch_id, camera_id="front_door", started_at=NOON, **values)


def _upload(file_path: str = "/x/front_door/1.jpg", **values: object) -> Upload:
    values.setdefault("status", UploadStatus.QUEUED)
    return Upload(camera_id="front_door", file_path=file_path, **values)


async def test_server_defaults_come_back_on_insert(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        camera = _camera()
        session.add(camera)
        await session.flush()
        detection = Detection(camera_id=camera.id, file_path="/x/front_door/1.jpg")
        event = _event()
        log = Log(level="INFO", component="test", message="hello")
        key = APIKey(key_hash="a" * 64, name="dashboard")
        upload = _upload()
        stats = GPUStats(gpu_name="test")
        session.add_all([detection, event, log, key, upload, stats])
        await session.commit()

    # Read after the commit without touching the database: the defaults came back with RETURNING.
    assert camera.status == CameraStatus.ONLINE
    assert camera.created_at.tzinfo is not None
    assert camera.last_seen_at is None
    assert detection.detected_at.tzinfo is not None
    assert (event.reviewed, event.is_fast_path) == (False, False)
    assert log.source == LogSource.BACKEND
    assert log.timestamp.tzinfo is not None
    assert key.is_active is True
    assert (upload.attempts, upload.sha256) == (0, None)
    assert upload.received_at.tzinfo is not None
    assert stats.recorded_at.tzinfo is not None


async def test_relationships_load_children_explicitly(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        session.add(_camera())
        await session.flush()
        session.add_all([_event(), _upload(), Detection(camera_id="front_door", file_path="/a")])
        await session.commit()

    async with db_sessions() as session:
        camera = await session.scalar(
            select(Camera).options(
                selectinload(Camera.detections),
                selectinload(Camera.events),
                selectinload(Camera.uploads),
            )
        )
        assert camera is not None
        assert [d.file_path for d in camera.detections] == ["/a"]
        assert [e.batch_id for e in camera.events] == ["batch-1"]
        assert [u.file_path for u in camera.uploads] == ["/x/front_door/1.jpg"]

        unloaded = await session.scalar(select(Event))
        # lazy="raise": an implicit load under asyncio is a clear error at the attribute, not a
        # MissingGreenlet from deep in the driver.
        with pytest.raises(InvalidRequestError, match="lazy='raise'"):
            _ = unloaded.camera


async def test_deleting_a_camera_cascades_to_its_rows(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        session.add_all([_camera(), _camera("garage")])
        await session.flush()
        session.add_all(
            [
                Detection(camera_id="front_door", file_path="/x/front_door/1.jpg"),
                _event(),
                _upload(),
                Detection(camera_id="garage", file_path="/x/garage/1.jpg"),
            ]
        )
        await session.commit()

    async with db_sessions() as session:
        camera = await session.get(Camera, "front_door")
        await session.delete(camera)
        await session.commit()

    async with db_sessions() as session:
        counts = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Camera, Detection, Event, Upload)
        }
    # Only the other camera and its detection are left.
    assert counts == {"cameras": 1, "detections": 1, "events": 0, "uploads": 0}


async def test_a_batch_makes_at_most_one_event(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        session.add(_camera())
        await session.flush()
        session.add(_event("batch-1"))
        await session.commit()

        session.add(_event("batch-1", risk_score=10))
        with pytest.raises(IntegrityError, match="uq_events_batch_id"):
            await session.commit()


@pytest.mark.parametrize(
    ("make_row", "constraint"),
    [
        (lambda: _upload("/x/front_door/1.jpg"), "uq_uploads_file_path"),
        (lambda: APIKey(key_hash="b" * 64, name="again"), "ix_api_keys_key_hash"),
    ],
    ids=["upload-file-path", "api-key-hash"],
)
async def test_unique_columns_refuse_a_second_row(
    db_sessions: async_sessionmaker[AsyncSession], make_row, constraint: str
) -> None:
    async with db_sessions() as session:
        session.add(_camera())
        await session.flush()
        session.add(make_row())
        await session.commit()

        session.add(make_row())
        with pytest.raises(IntegrityError, match=constraint):
            await session.commit()


@pytest.mark.parametrize(
    ("make_row", "constraint"),
    [
        (lambda: _event(risk_score=101), "ck_events_risk_score_range"),
        (lambda: _event(risk_score=-1), "ck_events_risk_score_range"),
        (lambda: _event(risk_level="extreme"), "ck_events_risk_level_valid"),
        (lambda: _upload(status="bogus"), "ck_uploads_status_valid"),
        (
            lambda: Detection(camera_id="front_door", file_path="/a", confidence=1.5),
            "ck_detections_confidence_range",
        ),
        (lambda: _camera("porch", status="broken"), "ck_cameras_status_valid"),
        (
            lambda: Log(level="INFO", component="t", message="m", source="robot"),
            "ck_logs_source_valid",
        ),
    ],
    ids=[
        "risk-score-101",
        "risk-score-negative",
        "risk-level",
        "upload-status",
        "confidence",
        "camera-status",
        "log-source",
    ],
)
async def test_checks_refuse_out_of_range_values(
    db_sessions: async_sessionmaker[AsyncSession], make_row, constraint: str
) -> None:
    async with db_sessions() as session:
        session.add(_camera())
        await session.commit()

        session.add(make_row())
        with pytest.raises(IntegrityError, match=constraint):
            await session.commit()


async def test_checks_accept_the_edges_of_their_ranges(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        session.add(_camera())
        await session.flush()
        session.add_all(
            [
                _event("low", risk_score=0, risk_level="low"),
                _event("high", risk_score=100, risk_level="critical"),
                _event("unscored"),
                Detection(camera_id="front_door", file_path="/a", confidence=0.0),
                Detection(camera_id="front_door", file_path="/b", confidence=1.0),
                *(_upload(f"/u/{status}", status=status) for status in UploadStatus),
            ]
        )
        await session.commit()
        scores = (await session.scalars(select(Event.risk_score).order_by(Event.id))).all()
    assert scores == [0, 100, None]
