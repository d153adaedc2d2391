"""Every Redis name homesec uses, in one place, as the data-model contract names them.

Queues are Redis Streams with consumer groups (docs/architecture.md, "Delivery guarantees"); the
dead-letter queues stay lists, as in the contract, since nothing consumes them in a group.
"""

from __future__ import annotations

# --- streams and their consumer groups ------------------------------------------------------
DETECTION_QUEUE = "detection_queue"
ANALYSIS_QUEUE = "analysis_queue"
QUEUES = (DETECTION_QUEUE, ANALYSIS_QUEUE)

DETECTOR_GROUP = "detectors"
ANALYST_GROUP = "analysts"
# The one consumer group of each queue.
QUEUE_GROUPS = {DETECTION_QUEUE: DETECTOR_GROUP, ANALYSIS_QUEUE: ANALYST_GROUP}
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


# --- supervision ----------------------------------------------------------------------------
# Set by the supervisor and never expiring: when it is gone, Redis lost its data, and the
# watchers rebuild the queues from the uploads ledger.
SUPERVISOR_SENTINEL = "supervisor:sentinel"

# --- pub/sub --------------------------------------------------------------------------------
SECURITY_EVENTS = "security_events"
# Wakes the Notifier at once (POST /api/alerts/test queued messages); the text is ignored.
NOTIFIER_WAKE = "notifier:wake"

# --- per-stage latency samples (lists of float seconds, newest first) -----------------------
LATENCY_SAMPLES = 1000  # each list is trimmed to this many samples
LATENCY_STAGES = "metrics:latency_stages"  # a set of the stages that recorded any sample


def latency(stage: str) -> str:
    """``metrics:latency:{stage}``: the stage's most recent durations, newest first."""
    return f"metrics:latency:{stage}"


# --- homesec's additions to the contract's batch state --------------------------------------


def fast_path_fired_at(camera_id: str) -> str:
    """``batch:{camera_id}:fast_path_at``: epoch seconds of the camera's last fast-path job."""
    return f"batch:{camera_id}:fast_path_at"


def batched_detections(camera_id: str) -> str:
    """``batch:{camera_id}:assigned``: a sorted set (score: epoch seconds) of the detection ids
    already given to a batch, so a redelivered detection job never lands in a second batch."""
    return f"batch:{camera_id}:assigned"


def event_published(event_id: int, started_at: float) -> str:
    """``published:{event_id}:{started_at}``: set NX before publishing, so a redelivered batch
    whose event already exists publishes it only if nobody did. The start time (epoch seconds)
    is part of the key because ids alone repeat when the database is new and Redis is not."""
    return f"published:{event_id}:{started_at:.6f}"


# --- dashboard sessions ---------------------------------------------------------------------


def web_session(token_hash: str) -> str:
    """``session:{sha256 of the cookie's token}`` -> the hash of the API key that logged in,
    with the session's lifetime (``SESSION_HOURS``) as its TTL."""
    return f"session:{token_hash}"
