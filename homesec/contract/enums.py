"""The closed vocabularies stored in the database as plain strings, as the contract shows them.

``StrEnum`` members compare equal to their strings, so code may pass ``CameraStatus.ONLINE``
where a column expects ``"online"`` and compare what it reads back with either.
"""

from __future__ import annotations

from enum import StrEnum


class CameraStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


class UploadStatus(StrEnum):
    """Where a file stands in the ingest ledger (``uploads.status``)."""

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    # Failed validation (too small, undecodable, too many pixels); never retried blindly.
    REJECTED = "rejected"
    # Same content as a file seen within the dedupe window.
    DUPLICATE = "duplicate"
    # Gave up after the retries; the job went to the dead-letter queue.
    FAILED = "failed"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CameraRole(StrEnum):
    """What a camera watches (``cameras.role``); it weighs what the camera sees."""

    STREET = "street"  # the public way in front of the house: passers-by are normal
    ENTRANCE = "entrance"  # a door, porch or gate: the way in
    DRIVEWAY = "driveway"
    YARD = "yard"  # garden, backyard, patio: the household's own outdoor space
    GARAGE = "garage"
    INDOOR = "indoor"


class LogSource(StrEnum):
    BACKEND = "backend"
    FRONTEND = "frontend"


class FeedbackKind(StrEnum):
    """What a person said about an event's scoring (``event_feedback.feedback``)."""

    FALSE_ALARM = "false_alarm"  # nothing worth a look happened
    WRONG_SEVERITY = "wrong_severity"  # the band should have been another (``should_be``)


class HouseMode(StrEnum):
    """The house's mode (``house_mode_changes.mode``): who is home, which weighs what the
    cameras see. ``home`` scores as homesec always has."""

    HOME = "home"
    AWAY = "away"
    NIGHT = "night"
