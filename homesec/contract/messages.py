"""Every message type of the ``security_events`` channel, and its one encoding.

Three types go out, each a ``{"type": ..., "data": {...}}`` object in JSON text: ``event`` (the
contract's message, when the Analyst wrote an event), ``detection.new`` (one per image with
stored detections) and ``camera_status`` (a camera went online, offline or into error). They are
published only through :mod:`homesec.store.event_channel`, which encodes them with
:func:`encode_message`; the front door relays the text as it was published and reads only
its ``type`` (:func:`message_type`).
"""

from __future__ import annotations

import msgspec


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
    # homesec's addition: the visit's preliminary (fast-path) event this final verdict replaces;
    # a client showing one entry per visit folds that one into this.
    supersedes_event_id: int | None = None
    # homesec's addition (issue 23): the incident the event's visit joined (visits on different
    # cameras close in time); a client showing one entry per incident folds it into that entry.
    incident_id: int | None = None


class SecurityEventMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What goes out on the ``security_events`` channel and to WebSocket clients."""

    data: SecurityEventData
    type: str = "event"


class DetectedObject(msgspec.Struct, frozen=True, kw_only=True):
    detection_id: int
    object_type: str | None
    confidence: float | None
    # It stayed put where one stood in the camera's last frames (a parked car): no visit.
    stationary: bool = False


class DetectionNewData(msgspec.Struct, frozen=True, kw_only=True):
    """One image's detections. The first fields name its most confident box (as when there was
    one message per box); ``detections`` lists every box, ``objects`` says it in words."""

    detection_id: int
    camera_id: str
    object_type: str | None
    confidence: float | None
    detected_at: str  # ISO-8601
    file_path: str
    detections: list[DetectedObject] = []
    objects: str | None = None  # "2 people and 1 car"


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


class CameraProblemData(msgspec.Struct, frozen=True, kw_only=True):
    camera_id: str
    problem: str  # camera_problems.problem: "lens covered", "view moved", "blurred", "offline"
    state: str  # opened | cleared
    at: str  # ISO-8601: when the frame (or the silence) showed it
    problem_id: int | None = None  # the camera_problems row, when opened


class CameraProblemMessage(msgspec.Struct, frozen=True, kw_only=True):
    """homesec's addition (issue 23): published when a camera problem opens or clears, so the
    Cameras page shows it without a reload."""

    data: CameraProblemData
    type: str = "camera_problem"


ChannelMessage = (
    SecurityEventMessage | DetectionNewMessage | CameraStatusMessage | CameraProblemMessage
)
MESSAGE_TYPES = ("event", "detection.new", "camera_status", "camera_problem")


def encode_message(message: ChannelMessage) -> str:
    """The JSON text that goes on the channel (UTF-8 when Redis sends it)."""
    return msgspec.json.encode(message).decode()


class _Typed(msgspec.Struct):
    type: str | None = None


def message_type(text: str) -> str | None:
    """The ``type`` of a published message; None when the text is not such a message."""
    try:
        return msgspec.json.decode(text, type=_Typed).type
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
