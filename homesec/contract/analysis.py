"""What detector and LLM engines take and give: boxes, detections, an analysis context and a
verdict."""

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


class DetectionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What the analyst tells its LLM about one stored detection."""

    detection_id: int
    object_type: str
    confidence: float
    detected_at: dt.datetime
    bbox: BoundingBox | None = None
    # The image it was found on (its upload's file path): the boxes of one image are one frame.
    # Empty where unknown; then the detections sharing a ``detected_at`` stand for a frame.
    image: str = ""
    # When the picture was taken (EXIF, else the upload's time); None for rows stored before
    # it was kept. ``detected_at`` is when the detector processed the image.
    captured_at: dt.datetime | None = None
    # The names of the camera's zones that held where it stood (issue 23); empty: in none, or
    # stored before zones.
    zones: list[str] = []

    @property
    def happened_at(self) -> dt.datetime:
        """When it was seen: the capture time, else (older rows) the processing time."""
        return self.captured_at if self.captured_at is not None else self.detected_at


class KindHabit(msgspec.Struct, frozen=True, kw_only=True):
    """How often a kind of object (person, vehicle, animal ...) is seen on this camera around
    this hour: on ``days_seen`` of the baseline's ``history_days`` (both decayed, recent days
    weighing most)."""

    kind: str
    days_seen: float


class CameraBaseline(msgspec.Struct, frozen=True, kw_only=True):
    """What the house's own history says about this camera at this hour (store/baselines.py).

    ``history_days`` 0 means no history yet: the camera's role rules decide alone. A kind not
    in ``habits`` was never seen around this hour."""

    history_days: float
    hour: int
    habits: list[KindHabit] = []
    # Calendar days since the camera's first counted visit (0: not known); the reasoning speaks
    # of "the last N days" in these, up to a month.
    calendar_days: int = 0
    # Visits (batch events) per week at this weekday and hour, decayed; None: not known.
    weekday_hour_visits: float | None = None

    def days_seen(self, kind: str) -> float:
        return next((habit.days_seen for habit in self.habits if habit.kind == kind), 0.0)


class KindCalibration(msgspec.Struct, frozen=True, kw_only=True):
    """What the owner's feedback says about one kind of object on this camera
    (policy/calibration.py): of the ``events`` with feedback in the last ``window_days`` that
    showed this kind, how many were marked false alarms, should have been higher or lower; and
    the bounded ``offset`` the rules add to such an event's score (0 until enough feedback)."""

    kind: str
    events: int
    false_alarms: int = 0
    higher: int = 0
    lower: int = 0
    offset: int = 0
    window_days: int = 0


class CameraCalibration(msgspec.Struct, frozen=True, kw_only=True):
    """The owner's recent feedback on one camera's events, per kind of object. A kind not listed
    had no feedback."""

    kinds: list[KindCalibration] = []

    def of(self, kind: str) -> KindCalibration | None:
        return next((k for k in self.kinds if k.kind == kind), None)


class StationaryThing(msgspec.Struct, frozen=True, kw_only=True):
    """Something that stayed put in the batch's frames (a parked car): seen on the same spot in
    the camera's earlier frames, so it is the scenery, not the batch's reason (issue 23)."""

    object_type: str
    since: dt.datetime  # when its spot was first seen


class IncidentVisit(msgspec.Struct, frozen=True, kw_only=True):
    """One visit of an incident (visits on different cameras close in time, issue 23), as the
    engine hears of the incident a batch joins and as the incident's story tells it. Made by
    ``store/incidents.py``; read by ``policy/prompt.py``, ``policy/scoring.py`` and
    ``policy/incidents.py``."""

    event_id: int
    camera_id: str
    camera_name: str
    camera_role: str | None = None  # as set by the owner; None: guessed from the name
    started_at: dt.datetime  # its first picture
    ended_at: dt.datetime  # its last picture
    # The kinds seen (policy/scene.py: person, vehicle ...), most concerning first.
    kinds: list[str] = []
    risk_score: int | None = None


class AnalysisContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an LLM engine needs to assess one batch."""

    camera_id: str
    camera_name: str
    local_time: dt.datetime  # timezone-aware, in the house's local time
    detections: list[DetectionSummary]
    is_fast_path: bool = False
    # The camera's role (contract.enums.CameraRole) as set by the owner; None: guessed from its
    # name by whoever scores (policy/scoring.py's camera_role).
    camera_role: str | None = None
    baseline: CameraBaseline | None = None
    # The owner's recent feedback on this camera's events; None: none given.
    calibration: CameraCalibration | None = None
    # The house's mode when the batch's first picture was taken (contract.enums.HouseMode):
    # "home" scores as homesec always did; "away" and "night" weigh people more.
    house_mode: str = "home"
    # The things that stayed put in the batch's frames (a parked car): context, never the
    # reason; their detections are not in ``detections``.
    stationary: list[StationaryThing] = []
    # The incident this batch joins so far, oldest first: other cameras' visits that ended
    # within INCIDENT_WINDOW_SECONDS of it (policy/incidents.py); empty: it stands alone.
    earlier_visits: list[IncidentVisit] = []
    incident_window_seconds: int = 120  # INCIDENT_WINDOW_SECONDS, as the prompt tells it


class RiskAssessment(msgspec.Struct, frozen=True, kw_only=True):
    """An engine's verdict on one batch. ``risk_level`` is derived from the score in code."""

    risk_score: int
    summary: str
    reasoning: str


class ScoredBy(msgspec.Struct, frozen=True, kw_only=True):
    """Which engine, model and prompt (or rules) version scored an event (``events`` columns)."""

    engine: str
    model: str | None
    prompt_version: str
