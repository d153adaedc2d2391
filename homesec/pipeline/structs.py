"""The msgspec structures that cross boundaries: queue entries, engine inputs and outputs.

Shapes of queue entries and messages follow the data-model contract
(``shared/seeds/data-model.md``); homesec's additions are optional fields with defaults, so an
entry written by the reference implementation still decodes.
"""

from __future__ import annotations

import datetime as dt

import msgspec


class BoundingBox(msgspec.Struct, frozen=True):
    """A box in image pixels: top-left corner, width and height, clipped to the image."""

    x: int
    y: int
    width: int
    height: int


class Detection(msgspec.Struct, frozen=True):
    """One object a detector engine found in one image."""

    object_type: str
    confidence: float
    bbox: BoundingBox


class DetectionJob(msgspec.Struct, frozen=True, kw_only=True):
    """An entry of the ``detection_queue`` stream: one finished upload to run detection on."""

    camera_id: str
    file_path: str
    timestamp: str  # ISO-8601, when the upload was accepted
    upload_id: int | None = None
    sha256: str | None = None


class AnalysisJob(msgspec.Struct, frozen=True, kw_only=True):
    """An entry of the ``analysis_queue`` stream: one closed batch (or fast-path detection)."""

    batch_id: str
    camera_id: str
    detection_ids: list[int]
    is_fast_path: bool = False
    started_at: float | None = None  # epoch seconds of the batch's first detection
    ended_at: float | None = None  # epoch seconds of its last detection


class DlqEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An entry of a dead-letter queue: the job that failed ``MAX_RETRIES`` times, and why."""

    original_job: dict
    error: str
    attempt_count: int
    first_failed_at: str
    last_failed_at: str
    queue_name: str


class DetectionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What the analyst tells its LLM about one stored detection."""

    detection_id: int
    object_type: str
    confidence: float
    detected_at: dt.datetime
    bbox: BoundingBox | None = None


class AnalysisContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an LLM engine needs to assess one batch."""

    camera_id: str
    camera_name: str
    local_time: dt.datetime  # timezone-aware, in the house's local time
    detections: list[DetectionSummary]
    is_fast_path: bool = False


class RiskAssessment(msgspec.Struct, frozen=True, kw_only=True):
    """An engine's verdict on one batch. ``risk_level`` is derived from the score in code."""

    risk_score: int
    summary: str
    reasoning: str


class SecurityEventData(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    event_id: int
    batch_id: str
    camera_id: str
    risk_score: int | None
    risk_level: str | None
    summary: str | None
    started_at: str
    is_fast_path: bool = False


class SecurityEventMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What goes out on the ``security_events`` channel and to WebSocket clients."""

    data: SecurityEventData
    type: str = "event"


class CleanupStats(msgspec.Struct, frozen=True, kw_only=True):
    """What one retention cleanup removed, or would remove in a dry run (the contract's shape)."""

    events_deleted: int
    detections_deleted: int
    gpu_stats_deleted: int
    logs_deleted: int
    thumbnails_deleted: int
    images_deleted: int
    space_reclaimed: int  # bytes, estimated from the files' sizes
    retention_days: int
    dry_run: bool
    timestamp: dt.datetime


class ActorStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One supervised actor as the Supervisor last saw it; ``state`` is Ray's (``ALIVE`` ...)."""

    name: str
    kind: str
    state: str
    restarts: int = 0
    node: str | None = None
    last_error: str | None = None


class SupervisorReport(msgspec.Struct, frozen=True, kw_only=True):
    """The Supervisor's view of every actor it owns, for ``/api/system/health``."""

    actors: list[ActorStatus]
    checked_at: dt.datetime


class DetectionNewData(msgspec.Struct, frozen=True, kw_only=True):
    detection_id: int
    camera_id: str
    object_type: str | None
    confidence: float | None
    detected_at: str  # ISO-8601
    file_path: str


class DetectionNewMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Published on ``security_events`` by the detector for each stored detection."""

    data: DetectionNewData
    type: str = "detection.new"


class CameraStatusData(msgspec.Struct, frozen=True, kw_only=True):
    camera_id: str
    status: str  # online | offline | error
    previous_status: str | None
    reason: str
    changed_at: str  # ISO-8601


class CameraStatusMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Published on ``security_events`` when a camera's status changes."""

    data: CameraStatusData
    type: str = "camera_status"
