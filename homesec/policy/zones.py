"""A camera's zones, pure: checking a drawn list, and which zones hold a detection.

A detection stands where the bottom centre of its box is (its footpoint), taken relative to the
image's size so that zones drawn on one snapshot hold at every resolution. It belongs to the
zones that hold its footpoint and apply to its class (a zone with ``objects`` applies only to
those). One held only by ignore zones is dropped before it is stored or batched; one held by a
watch zone is kept even where an ignore zone overlaps it (the owner drew the watch zone on
purpose). A point on a zone's edge is inside it: a box standing on the bottom of the frame
belongs to a zone drawn along that edge. With no zones, every detection is kept, in no zone.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import msgspec

from homesec.contract.analysis import BoundingBox, Detection
from homesec.contract.zones import Zone, ZoneAction

MAX_ZONES = 32
MAX_POINTS = 64
MAX_NAME_CHARS = 60
# Coordinates closer than this are one point; a polygon with less area is a line.
_EPSILON = 1e-9
_MIN_AREA = 1e-6

Point = tuple[float, float]


class ZoneDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A zone as a client sends it, not yet checked (loose types so the check can say what is
    wrong in the house's words rather than a decoder's)."""

    name: str
    points: list[list[float]]
    action: str
    objects: list[str] | None = None


class InvalidZones(ValueError):
    """A zone list that cannot be stored; the message says which zone and what is wrong."""


# --- checking a list -------------------------------------------------------------------------
def checked_zones(drafts: Sequence[ZoneDraft], known_objects: Collection[str]) -> list[Zone]:
    """The camera's zones from a client's list, or :class:`InvalidZones` naming the first
    problem. ``known_objects``: the classes a zone may name (the house's object types)."""
    if len(drafts) > MAX_ZONES:
        raise InvalidZones(f"{len(drafts)} zones: a camera has at most {MAX_ZONES}")
    zones: list[Zone] = []
    seen: dict[str, int] = {}
    for index, draft in enumerate(drafts, start=1):
        zone = _checked_zone(index, draft, known_objects)
        key = zone.name.casefold()
        if key in seen:
            raise InvalidZones(
                f"zone {index}: the name {zone.name!r} is taken by zone {seen[key]}: "
                "each zone needs a name of its own"
            )
        seen[key] = index
        zones.append(zone)
    return zones


def _checked_zone(index: int, draft: ZoneDraft, known_objects: Collection[str]) -> Zone:
    name = " ".join(draft.name.split())
    if not name:
        raise InvalidZones(f"zone {index}: the name is empty: give the zone a name")
    where = f"zone {index} ({name!r})"
    if len(name) > MAX_NAME_CHARS:
        raise InvalidZones(f"{where}: the name is over {MAX_NAME_CHARS} characters")
    if not name.isprintable():
        raise InvalidZones(f"{where}: the name holds control characters")
    try:
        action = ZoneAction(draft.action)
    except ValueError:
        choices = " or ".join(repr(a.value) for a in ZoneAction)
        raise InvalidZones(f"{where}: unknown action {draft.action!r}: use {choices}") from None
    objects = None
    if draft.objects is not None:
        if not draft.objects:
            raise InvalidZones(f"{where}: objects is empty: leave it out for every kind of object")
        unknown = sorted({o for o in draft.objects if o not in known_objects})
        if unknown:
            raise InvalidZones(
                f"{where}: unknown object kind {', '.join(map(repr, unknown))}: use the "
                f"detector's classes, such as {', '.join(sorted(known_objects)[:6])}"
            )
        objects = list(dict.fromkeys(draft.objects))
    points = _checked_points(where, draft.points)
    return Zone(name=name, points=points, action=action, objects=objects)


def _checked_points(where: str, raw: Sequence[Sequence[float]]) -> list[Point]:
    if len(raw) < 3:
        raise InvalidZones(f"{where}: {len(raw)} points: a zone needs at least 3")
    if len(raw) > MAX_POINTS:
        raise InvalidZones(f"{where}: {len(raw)} points: a zone has at most {MAX_POINTS}")
    points: list[Point] = []
    for number, point in enumerate(raw, start=1):
        if len(point) != 2:
            raise InvalidZones(f"{where}: point {number} is not a pair [x, y]")
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1 and 0 <= y <= 1):
            raise InvalidZones(
                f"{where}: point {number} [{point[0]}, {point[1]}] lies outside the frame: "
                "coordinates are fractions of its width and height, from 0 to 1"
            )
        points.append((x, y))
    for number, (a, b) in enumerate(_edges(points), start=1):
        if _same(a, b):
            raise InvalidZones(f"{where}: point {number} repeats the point before or after it")
    if all(abs(_cross(points[0], points[1], p)) < _MIN_AREA for p in points[2:]):
        raise InvalidZones(f"{where}: the points lie on one line: the zone has no area")
    crossing = self_intersection(points)
    if crossing is not None:
        first, second = crossing
        raise InvalidZones(
            f"{where}: the polygon crosses itself (edge {first} meets edge {second}): draw "
            "its outline once around, without crossing"
        )
    return points


# --- geometry ----------------------------------------------------------------------------------
def _edges(points: Sequence[Point]) -> list[tuple[Point, Point]]:
    return [(points[i], points[(i + 1) % len(points)]) for i in range(len(points))]


def _same(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) <= _EPSILON and abs(a[1] - b[1]) <= _EPSILON


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    """``p`` lies on the segment a-b (within rounding)."""
    if abs(_cross(a, b, p)) > _EPSILON:
        return False
    return (
        min(a[0], b[0]) - _EPSILON <= p[0] <= max(a[0], b[0]) + _EPSILON
        and min(a[1], b[1]) - _EPSILON <= p[1] <= max(a[1], b[1]) + _EPSILON
    )


def segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments a-b and c-d share a point (touching and overlapping included)."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > _EPSILON and d2 < -_EPSILON) or (d1 < -_EPSILON and d2 > _EPSILON)) and (
        (d3 > _EPSILON and d4 < -_EPSILON) or (d3 < -_EPSILON and d4 > _EPSILON)
    ):
        return True
    return (
        _on_segment(a, c, d) or _on_segment(b, c, d) or _on_segment(c, a, b) or _on_segment(d, a, b)
    )


def self_intersection(points: Sequence[Point]) -> tuple[int, int] | None:
    """The first two edges (numbered from 1, edge i runs from point i to the next) that meet
    where they should not: edges that are not neighbours meeting at all, or neighbours folding
    back over each other. None for a simple polygon."""
    edges = _edges(points)
    count = len(edges)
    for i in range(count):
        a, b = edges[i]
        # Neighbours share a point; they must not also run back along each other.
        c, d = edges[(i + 1) % count]
        if abs(_cross(a, b, d)) <= _EPSILON and (
            (b[0] - a[0]) * (d[0] - c[0]) + (b[1] - a[1]) * (d[1] - c[1]) < 0
        ):
            return (i + 1, (i + 1) % count + 1)
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # the last edge and the first are neighbours
            if segments_meet(a, b, *edges[j]):
                return (i + 1, j + 1)
    return None


def contains(points: Sequence[Point], p: Point) -> bool:
    """Whether the polygon holds ``p``, its edges included (even-odd ray casting)."""
    inside = False
    for a, b in _edges(points):
        if _on_segment(p, a, b):
            return True
        if (a[1] > p[1]) != (b[1] > p[1]):
            x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if p[0] < x:
                inside = not inside
    return inside


def footpoint(box: BoundingBox, width: int, height: int) -> Point:
    """Where a box's object stands: the bottom centre of the box, relative to the image."""
    return ((box.x + box.width / 2) / max(width, 1), (box.y + box.height) / max(height, 1))


# --- membership --------------------------------------------------------------------------------
def zones_holding(detection: Detection, zones: Sequence[Zone], size: tuple[int, int]) -> list[Zone]:
    """The zones that hold the detection's footpoint and apply to its class, in list order."""
    point = footpoint(detection.bbox, *size)
    return [
        zone
        for zone in zones
        if zone.applies_to(detection.object_type) and contains(zone.points, point)
    ]


def is_ignored(holding: Sequence[Zone]) -> bool:
    """Held only by ignore zones: dropped. In no zone, or in a watch zone: kept."""
    return bool(holding) and all(zone.action is ZoneAction.IGNORE for zone in holding)


def in_any_zone(wanted: Sequence[str], stood_in: Collection[str]) -> bool:
    """Whether a detection stood in one of the ``wanted`` zones (names, case aside)."""
    names = {name.casefold() for name in stood_in}
    return any(name.casefold() in names for name in wanted)


def placed_detections(
    detections: Sequence[Detection], zones: Sequence[Zone], size: tuple[int, int]
) -> list[tuple[Detection, list[str]]]:
    """One image's detections that its camera's zones keep, each with the names of the zones
    that hold it (watch and ignore alike: both say where it stood). With no zones, all of them,
    in no zone."""
    if not zones:
        return [(detection, []) for detection in detections]
    placed = []
    for detection in detections:
        holding = zones_holding(detection, zones, size)
        if not is_ignored(holding):
            placed.append((detection, [zone.name for zone in holding]))
    return placed
