"""How the owner's zones move the rules' score, pure and data-driven.

A zone's name says what it is: "porch", "front door", "side gate" are the house's thresholds;
"street", "pavement", "footpath" are public ground. A person standing at a threshold weighs
more, most of all in the dark; people seen only on public ground weigh less, as the street
camera's role already says for a whole camera. Zones with other names say nothing here (they
still reach the LLM by name). The tables below are the whole rule: a name's words pick its
class (:data:`ZONE_CLASSES`, the first class in order wins, so "street door" is a threshold),
and the class's points by time of day are one part of the score, explained in the reasoning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from homesec.contract.analysis import DetectionSummary
from homesec.policy import scene

THRESHOLD, PUBLIC = "threshold", "public"


@dataclass(frozen=True)
class ZoneClass:
    name: str
    words: frozenset[str]
    # Points by time of day: day, evening, dawn, night (policy/scoring.py's parts of the day).
    points: tuple[int, int, int, int]
    meaning: str  # what the reasoning says the zone is


# fmt: off
ZONE_CLASSES: tuple[ZoneClass, ...] = (
    ZoneClass(
        THRESHOLD,
        frozenset({
            "door", "doors", "doorway", "doorstep", "doorbell", "frontdoor", "backdoor",
            "porch", "entrance", "entry", "gate", "gates", "stoop", "steps", "window", "windows",
        }),
        (5, 10, 15, 20),
        "a way into the house",
    ),
    ZoneClass(
        PUBLIC,
        frozenset({
            "street", "road", "pavement", "sidewalk", "footpath", "path", "kerb", "curb",
            "lane", "verge", "public",
        }),
        (-5, -5, -10, -15),
        "public ground",
    ),
)
# fmt: on
_TIME_INDEX = {"day": 0, "evening": 1, "dawn": 2, "night": 3}


@dataclass(frozen=True)
class ZonePart:
    points: int
    why: str


def zone_class(zone_name: str) -> ZoneClass | None:
    """The class a zone's name says (``"Front Porch"`` a threshold), else None."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", zone_name)
    words = set(re.findall(r"[a-z]+", spaced.lower()))
    return next((c for c in ZONE_CLASSES if words & c.words), None)


def zone_part(detections: Sequence[DetectionSummary], part_of_day: str) -> ZonePart | None:
    """The zones' part of the score for the people in ``detections``: a person in a threshold
    zone raises it by that class's points for ``part_of_day``; people who stood only in
    public zones (each of them in one) lower it. None: no person in a zone that says either."""
    people = [d for d in detections if scene.kind_of(d.object_type) == scene.PERSON]
    index = _TIME_INDEX[part_of_day]
    when = {"day": "by day", "evening": "in the evening", "dawn": "at dawn", "night": "at night"}
    for detection in people:
        for name in detection.zones:
            found = zone_class(name)
            if found is not None and found.name == THRESHOLD:
                return ZonePart(
                    found.points[index],
                    f"a person in the zone {name!r} ({found.meaning}) {when[part_of_day]}",
                )
    classes = [[zone_class(name) for name in d.zones] for d in people]
    if people and all(any(c is not None and c.name == PUBLIC for c in cs) for cs in classes):
        names = sorted({n for d in people for n in d.zones if zone_class(n) is not None})
        public = next(c for c in ZONE_CLASSES if c.name == PUBLIC)
        shown = ", ".join(repr(n) for n in names)
        return ZonePart(
            public.points[index],
            f"people only in the zone{'s' if len(names) > 1 else ''} {shown} ({public.meaning})",
        )
    return None
