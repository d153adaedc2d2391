"""The entries of the work queues, their dead letters, and the Detector's hand-over to a Batcher.

Shapes follow the data-model contract (``docs/data-model.md``); homesec's additions are optional
fields with defaults, so an entry written by the reference implementation still decodes.
"""

from __future__ import annotations

import msgspec


class DetectionJob(msgspec.Struct, frozen=True, kw_only=True):
    """An entry of the ``detection_queue`` stream: one finished upload to run detection on."""

    camera_id: str
    file_path: str
    timestamp: str  # ISO-8601, when the upload was accepted
    upload_id: int | None = None
    sha256: str | None = None
    # ISO-8601, when the picture was taken (EXIF, else the upload's mtime): the ledger row's
    # ``captured_at``. None in jobs queued before it existed; the detector then reads the row.
    captured_at: str | None = None


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


class StoredDetection(msgspec.Struct, frozen=True):
    """What the Detector hands the Batcher for each detection it has written."""

    detection_id: int
    object_type: str
    confidence: float
    # It sat where one sat in the camera's recent frames (a parked car): stored, not batched.
    stationary: bool = False
