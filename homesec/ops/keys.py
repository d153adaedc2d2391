"""Every Redis name homesec uses, in one place, as the data-model contract names them.

Queues are Redis Streams with consumer groups (DESIGN.md, "Delivery guarantees"); the
dead-letter queues stay lists, as in the contract, since nothing consumes them in a group.
"""

from __future__ import annotations

# --- streams and their consumer groups ------------------------------------------------------
DETECTION_QUEUE = "detection_queue"
ANALYSIS_QUEUE = "analysis_queue"
QUEUES = (DETECTION_QUEUE, ANALYSIS_QUEUE)

DETECTOR_GROUP = "detectors"
ANALYST_GROUP = "analysts"
STREAM_FIELD = "job"  # each stream entry holds its JSON job under this one field

# --- dead-letter queues (lists) -------------------------------------------------------------
DLQ_PREFIX = "dlq:"


def dlq(queue_name: str) -> str:
    """``dlq:detection_queue``, ``dlq:analysis_queue``."""
    return f"{DLQ_PREFIX}{queue_name}"


DLQS = tuple(dlq(queue) for queue in QUEUES)

# --- deduplication --------------------------------------------------------------------------


def dedupe(sha256: str) -> str:
    """``dedupe:{sha256}`` -> file path, with ``DEDUPE_TTL_SECONDS`` TTL, set NX."""
    return f"dedupe:{sha256}"


# --- batch aggregation state (1 h TTL each) -------------------------------------------------
BATCH_KEY_TTL_SECONDS = 3600


def batch_current(camera_id: str) -> str:
    return f"batch:{camera_id}:current"


def batch_camera(batch_id: str) -> str:
    return f"batch:{batch_id}:camera_id"


def batch_detections(batch_id: str) -> str:
    return f"batch:{batch_id}:detections"


def batch_started_at(batch_id: str) -> str:
    return f"batch:{batch_id}:started_at"


def batch_last_activity(batch_id: str) -> str:
    return f"batch:{batch_id}:last_activity"


def batch_keys(batch_id: str) -> tuple[str, ...]:
    """The per-batch keys (not the camera's ``current`` pointer)."""
    return (
        batch_camera(batch_id),
        batch_detections(batch_id),
        batch_started_at(batch_id),
        batch_last_activity(batch_id),
    )


# --- pub/sub --------------------------------------------------------------------------------
SECURITY_EVENTS = "security_events"
