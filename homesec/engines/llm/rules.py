"""A deterministic, explainable risk score: the fallback when no LLM answers, and an engine of
its own on machines without one.

The score is a sum of named parts, each listed in ``reasoning`` with its points, so an owner can
see why an event scored what it did:

- the most concerning class seen, weighted by its best confidence (person 40, vehicle 20,
  animal 5, anything else 5);
- more people seen in one frame (+10 each beyond the first, at most +30);
- people and a vehicle together (+10): someone may have arrived by car;
- night (22:00-06:00 local): +25 with people, +10 with vehicles only;
- a camera whose name says it watches a way in (door, gate, garage ...) and people: +10;
- people lingering: seen in 5 or more frames (+10).

Capped at 100. Same context, same answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from homesec.contract.analysis import AnalysisContext, DetectionSummary, RiskAssessment
from homesec.pipeline.prompt import (
    MAX_CAMERA_NAME_CHARS,
    MAX_LABEL_CHARS,
    is_night,
    part_of_day,
    sanitize_text,
)

PERSON = "person"
VEHICLES = frozenset({"car", "truck", "bus", "motorcycle", "bicycle"})
ANIMALS = frozenset(
    {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"}
)
CLASS_WEIGHTS = {"person": 40, "vehicle": 20, "animal": 5, "other": 5}

EXTRA_PERSON_POINTS = 10
MAX_EXTRA_PERSON_POINTS = 30
PERSON_WITH_VEHICLE_POINTS = 10
NIGHT_PERSON_POINTS = 25
NIGHT_VEHICLE_POINTS = 10
ENTRY_POINT_POINTS = 10
LINGERING_FRAMES = 5
LINGERING_POINTS = 10
# Whole words of the camera's name ("Front Door", "garage_cam"), so "Outdoor" is not a door.
ENTRY_POINT_WORDS = frozenset({"door", "entrance", "entry", "gate", "garage", "porch", "driveway"})


def category(object_type: str) -> str:
    label = object_type.strip().lower()
    if label == PERSON:
        return "person"
    if label in VEHICLES:
        return "vehicle"
    if label in ANIMALS:
        return "animal"
    return "other"


@dataclass(frozen=True)
class _Part:
    points: int
    why: str


def _people_per_frame(detections: list[DetectionSummary]) -> Counter[dt.datetime]:
    # Detections of one image share its timestamp, so a timestamp stands for a frame.
    return Counter(d.detected_at for d in detections if category(d.object_type) == "person")


def _parts(context: AnalysisContext) -> list[_Part]:
    detections = context.detections
    best: dict[str, float] = {}
    for detection in detections:
        kind = category(detection.object_type)
        best[kind] = max(best.get(kind, 0.0), float(detection.confidence))
    top_kind = max(best, key=lambda kind: (CLASS_WEIGHTS[kind], best[kind]))
    parts = [
        _Part(
            round(CLASS_WEIGHTS[top_kind] * best[top_kind]),
            f"most concerning class: {top_kind} (weight {CLASS_WEIGHTS[top_kind]} x best "
            f"confidence {best[top_kind]:.2f})",
        )
    ]
    people = "person" in best
    vehicles = "vehicle" in best
    frames = _people_per_frame(detections)
    most_at_once = max(frames.values(), default=0)
    if most_at_once > 1:
        points = min(EXTRA_PERSON_POINTS * (most_at_once - 1), MAX_EXTRA_PERSON_POINTS)
        parts.append(_Part(points, f"{most_at_once} people in one frame"))
    if people and vehicles:
        parts.append(_Part(PERSON_WITH_VEHICLE_POINTS, "people together with a vehicle"))
    if is_night(context.local_time):
        if people:
            parts.append(_Part(NIGHT_PERSON_POINTS, "people at night"))
        elif vehicles:
            parts.append(_Part(NIGHT_VEHICLE_POINTS, "a vehicle at night"))
    name_words = set(re.findall(r"[a-z]+", context.camera_name.lower()))
    if people and name_words & ENTRY_POINT_WORDS:
        parts.append(_Part(ENTRY_POINT_POINTS, "people at a camera watching a way in"))
    if len(frames) >= LINGERING_FRAMES:
        parts.append(_Part(LINGERING_POINTS, f"people seen in {len(frames)} frames (lingering)"))
    return parts


def _summary(context: AnalysisContext, camera: str, when: str) -> str:
    counts = Counter(d.object_type.strip().lower() for d in context.detections)
    seen = ", ".join(
        f"{count} {sanitize_text(label, MAX_LABEL_CHARS)} detection{'s' if count > 1 else ''}"
        for label, count in counts.most_common()
    )
    return f"{seen} at {camera} at {when}."


def assess_by_rules(context: AnalysisContext) -> RiskAssessment:
    """The rules' verdict on ``context``; pure and synchronous (the engine wraps it)."""
    camera = sanitize_text(context.camera_name, MAX_CAMERA_NAME_CHARS) or context.camera_id
    when = f"{context.local_time:%H:%M} ({part_of_day(context.local_time)})"
    if not context.detections:
        return RiskAssessment(
            risk_score=0,
            summary=f"Nothing detected at {camera} at {when}.",
            reasoning="Rules engine: no objects were detected, so there is nothing to assess.",
        )
    parts = _parts(context)
    score = min(100, sum(part.points for part in parts))
    lines = "; ".join(f"{part.why}: +{part.points}" for part in parts)
    capped = " (capped at 100)" if sum(part.points for part in parts) > 100 else ""
    return RiskAssessment(
        risk_score=score,
        summary=_summary(context, camera, when),
        reasoning=f"Rules engine score {score}{capped} = {lines}.",
    )


class RulesEngine:
    """:func:`assess_by_rules` behind the :class:`~homesec.engines.llm.base.LlmEngine` interface."""

    name = "rules"

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        return assess_by_rules(context)

    async def aclose(self) -> None:
        """Nothing to release."""
