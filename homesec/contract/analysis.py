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
