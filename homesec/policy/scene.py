"""What a batch shows, in a house's terms: kinds of objects, how many at once, in how many frames,
over how long. Pure; used by the rules, the prompt, summaries and the baselines.

A batch holds one row per box. A frame is one image: the boxes of one upload (``image``, its file
path). The detector stamps every image of one of its batches with the same ``detected_at``, so a
timestamp is not a frame (seven images read in four detector batches were "seen in 4 frames"
while the event page counted 7); only a detection that does not name its image falls back to its
timestamp. The most boxes of a class in one frame is how many of that object there were: ten
images of the same two people are "2 people, seen in 10 frames", not "20 person detections".
Times (first and last seen, the seconds a scene spans) are when the pictures were taken
(``happened_at``), not when the detector got to them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from homesec.contract.analysis import DetectionSummary

PERSON = "person"
VEHICLE = "vehicle"
ANIMAL = "animal"
LARGE_ANIMAL = "large_animal"
WEAPON = "weapon"
BAG = "bag"
OTHER = "other"
KINDS = (PERSON, VEHICLE, ANIMAL, LARGE_ANIMAL, WEAPON, BAG, OTHER)

# COCO class names, as RT-DETRv2's config spells them.
KIND_OF_CLASS: dict[str, str] = {
    "person": PERSON,
    **dict.fromkeys(("bicycle", "car", "motorcycle", "bus", "truck"), VEHICLE),
    **dict.fromkeys(("bird", "cat", "dog"), ANIMAL),
    **dict.fromkeys(
        ("horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"), LARGE_ANIMAL
    ),
    **dict.fromkeys(("knife", "scissors", "baseball bat"), WEAPON),
    **dict.fromkeys(("backpack", "handbag", "suitcase"), BAG),
}
# What a house cares about: the default of DETECTION_OBJECT_TYPES.
HOUSE_CLASSES: tuple[str, ...] = tuple(KIND_OF_CLASS)
WEAPON_CLASSES = frozenset(name for name, kind in KIND_OF_CLASS.items() if kind == WEAPON)

# How the owner reads a kind: one and many.
_NOUNS = {
    PERSON: ("person", "people"),
    VEHICLE: ("vehicle", "vehicles"),
    ANIMAL: ("animal", "animals"),
    LARGE_ANIMAL: ("large animal", "large animals"),
    WEAPON: ("weapon", "weapons"),
    BAG: ("bag", "bags"),
    OTHER: ("object", "objects"),
}


_PLURALS = {"person": "people", "knife": "knives", "scissors": "scissors", "sheep": "sheep"}
# The order summaries name kinds in: what matters most first.
_ORDER = (PERSON, WEAPON, LARGE_ANIMAL, VEHICLE, ANIMAL, BAG, OTHER)


def kind_of(object_type: str) -> str:
    return KIND_OF_CLASS.get(object_type.strip().lower(), OTHER)


def noun(kind: str, count: int) -> str:
    one, many = _NOUNS.get(kind, (kind, kind))
    return one if count == 1 else many


def class_noun(object_type: str, count: int) -> str:
    """``"person"``/``"people"``, ``"car"``/``"cars"``, ``"baseball bat"``/``"baseball bats"``."""
    label = object_type.strip().lower()
    if count == 1:
        return label
    if label in _PLURALS:
        return _PLURALS[label]
    return f"{label}es" if label.endswith(("s", "sh", "ch", "x")) else f"{label}s"


@dataclass(frozen=True)
class Sighting:
    """One class (or kind) in one batch."""

    name: str
    most_at_once: int  # the most boxes of it in one frame: how many there were
    frames: int
    best_confidence: float
    first: dt.datetime
    last: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.last - self.first).total_seconds()


def frame_of(detection: DetectionSummary) -> str | dt.datetime:
    """What tells the detection's frame: its image, or its timestamp when it names none."""
    return detection.image or detection.detected_at


def _sightings(detections: list[DetectionSummary], key: object) -> dict[str, Sighting]:
    per_frame: dict[str, dict[str | dt.datetime, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    best: dict[str, float] = {}
    for detection in detections:
        name = key(detection)  # type: ignore[operator]
        per_frame[name][frame_of(detection)] += 1
        times[name].append(detection.happened_at)
        best[name] = max(best.get(name, 0.0), float(detection.confidence))
    return {
        name: Sighting(
            name=name,
            most_at_once=max(frames.values()),
            frames=len(frames),
            best_confidence=best[name],
            first=min(times[name]),
            last=max(times[name]),
        )
        for name, frames in per_frame.items()
    }


def by_class(detections: list[DetectionSummary]) -> dict[str, Sighting]:
    return _sightings(detections, lambda d: d.object_type.strip().lower())


def by_kind(detections: list[DetectionSummary]) -> dict[str, Sighting]:
    return _sightings(detections, lambda d: kind_of(d.object_type))


def frame_count(detections: list[DetectionSummary]) -> int:
    return len({frame_of(d) for d in detections})


def span_seconds(detections: list[DetectionSummary]) -> float:
    if not detections:
        return 0.0
    times = [d.happened_at for d in detections]
    return (max(times) - min(times)).total_seconds()


def describe_objects(detections: list[DetectionSummary]) -> str:
    """``"2 people and 1 car, seen in 10 frames over 40 s"``; ``"nothing"`` for no detections."""
    if not detections:
        return "nothing"
    classes = sorted(
        by_class(detections).values(), key=lambda s: (_ORDER.index(kind_of(s.name)), s.name)
    )
    names = [f"{s.most_at_once} {class_noun(s.name, s.most_at_once)}" for s in classes]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"{listed}, {frames_phrase(frame_count(detections), span_seconds(detections))}"


def frames_phrase(frames: int, seconds: float) -> str:
    """``"seen in 7 frames over 27 s"``, ``"seen in 1 frame"``."""
    if frames == 1:
        return "seen in 1 frame"
    return f"seen in {frames} frames over {seconds:.0f} s"


# "in 4 frames", "in 4 frames over 12 s": how a summary (ours, or an LLM's) counts frames.
_FRAMES_IN_TEXT = re.compile(r"\bin (\d+) frames?\b(?: over \d+(?:\.\d+)? ?s\b)?")


def restate_frames(summary: str, frames: int, seconds: float) -> str:
    """``summary`` with its frame counts as the stored facts have them: a summary written from
    other data (an earlier count, an LLM's own) must not contradict the page it is shown on."""

    def facts(match: re.Match[str]) -> str:
        said = f"in {frames} frame{'' if frames == 1 else 's'}"
        over = match.group(0).find(" over ") > 0 and frames != 1
        return f"{said} over {seconds:.0f} s" if over else said

    return _FRAMES_IN_TEXT.sub(facts, summary)


def kept_by_house(
    object_type: str, confidence: float, threshold: float, classes: tuple[str, ...]
) -> bool:
    """Whether the detector keeps a box: confident enough, of a class the house cares about
    (``DETECTION_OBJECT_TYPES``; empty: every class)."""
    if confidence < threshold:
        return False
    return not classes or object_type.strip().lower() in classes


def objects_in_image(object_types: list[str]) -> str:
    """One image's boxes as objects: ``"2 people and 1 car"``."""
    counts: dict[str, int] = {}
    for label in object_types:
        name = label.strip().lower()
        counts[name] = counts.get(name, 0) + 1
    names = sorted(counts, key=lambda name: (_ORDER.index(kind_of(name)), name))
    listed = [f"{counts[name]} {class_noun(name, counts[name])}" for name in names]
    if len(listed) <= 1:
        return listed[0] if listed else "nothing"
    return ", ".join(listed[:-1]) + f" and {listed[-1]}"
