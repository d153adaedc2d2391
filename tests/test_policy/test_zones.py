"""A camera's zones, pure (policy/zones.py): the geometry, which zones hold a detection, which
detections are dropped, and the check of a drawn list with what it says when it refuses."""

from __future__ import annotations

import pytest

from homesec.contract.analysis import BoundingBox, Detection
from homesec.contract.zones import Zone, ZoneAction
from homesec.policy.zones import (
    MAX_POINTS,
    MAX_ZONES,
    InvalidZones,
    ZoneDraft,
    checked_zones,
    contains,
    footpoint,
    placed_detections,
    self_intersection,
)

KNOWN = ("person", "car", "dog")
SQUARE = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]
# The image the boxes are on: 1000 x 500 pixels.
SIZE = (1000, 500)
STREET = Zone(name="street", points=[(0, 0.7), (1, 0.7), (1, 1), (0, 1)], action=ZoneAction.IGNORE)
PORCH = Zone(name="porch", points=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)], action=ZoneAction.WATCH)
DRIVEWAY_CARS = Zone(
    name="driveway",
    points=[(0.5, 0), (1, 0), (1, 1), (0.5, 1)],
    action=ZoneAction.WATCH,
    objects=["car"],
)


def standing_at(x: float, y: float, kind: str = "person") -> Detection:
    """A 100 x 200 px box whose footpoint is (x, y) of the 1000 x 500 image."""
    fx, fy = round(x * SIZE[0]), round(y * SIZE[1])
    return Detection(kind, 0.9, BoundingBox(fx - 50, fy - 200, 100, 200))


def draft(name="porch", points=None, action="watch", objects=None) -> ZoneDraft:
    return ZoneDraft(
        name=name,
        points=[list(p) for p in (points if points is not None else SQUARE)],
        action=action,
        objects=objects,
    )


# --- geometry ------------------------------------------------------------------------------
def test_the_footpoint_is_the_bottom_centre_relative_to_the_image() -> None:
    assert footpoint(BoundingBox(100, 50, 200, 300), 1000, 500) == (0.2, 0.7)


def test_contains_inside_outside_and_on_the_edge() -> None:
    assert contains(SQUARE, (0.5, 0.5))
    assert not contains(SQUARE, (0.1, 0.5))
    assert not contains(SQUARE, (0.5, 0.9))
    assert contains(SQUARE, (0.2, 0.5))  # on an edge
    assert contains(SQUARE, (0.8, 0.8))  # a corner
    # A concave L: the notch is outside.
    ell = [(0, 0), (1, 0), (1, 0.4), (0.4, 0.4), (0.4, 1), (0, 1)]
    assert contains(ell, (0.2, 0.8))
    assert not contains(ell, (0.8, 0.8))


def test_a_box_on_the_bottom_of_the_frame_is_in_a_zone_along_that_edge() -> None:
    at_bottom = Detection("person", 0.9, BoundingBox(450, 300, 100, 200))  # ends at y = 500
    assert placed_detections([at_bottom], [STREET], SIZE) == []


def test_self_intersection_finds_a_bow_tie_and_passes_simple_polygons() -> None:
    assert self_intersection([(0, 0), (1, 1), (1, 0), (0, 1)]) is not None
    assert self_intersection(SQUARE) is None
    assert self_intersection([(0, 0), (1, 0), (0.5, 1)]) is None
    # A spike folding back along its own edge.
    assert self_intersection([(0, 0), (1, 0), (0.5, 0), (0.5, 1)]) is not None


# --- membership ----------------------------------------------------------------------------
def test_without_zones_everything_is_kept_in_no_zone() -> None:
    detections = [standing_at(0.5, 0.9), standing_at(0.1, 0.1, "car")]
    assert placed_detections(detections, [], SIZE) == [(d, []) for d in detections]


def test_one_standing_only_in_an_ignored_zone_is_dropped() -> None:
    on_street = standing_at(0.9, 0.9)
    in_garden = standing_at(0.9, 0.5)
    assert placed_detections([on_street, in_garden], [STREET], SIZE) == [(in_garden, [])]


def test_a_watch_zone_keeps_what_an_ignored_zone_overlaps() -> None:
    on_porch_steps = standing_at(0.2, 0.9)  # in the street zone and in the porch zone
    assert placed_detections([on_porch_steps], [STREET, PORCH], SIZE) == [
        (on_porch_steps, ["street", "porch"])
    ]


def test_a_watch_zone_with_objects_counts_only_those_kinds() -> None:
    car = standing_at(0.8, 0.5, "car")
    person = standing_at(0.8, 0.5, "person")
    placed = placed_detections([car, person], [PORCH, DRIVEWAY_CARS], SIZE)
    assert placed == [(car, ["driveway"]), (person, [])]


def test_an_ignore_zone_with_objects_drops_only_those_kinds() -> None:
    parked = Zone(
        name="neighbours drive", points=STREET.points, action=ZoneAction.IGNORE, objects=["car"]
    )
    car, person = standing_at(0.5, 0.9, "car"), standing_at(0.5, 0.9)
    assert placed_detections([car, person], [parked], SIZE) == [(person, [])]


# --- checking a drawn list -----------------------------------------------------------------
def test_a_good_list_is_checked_into_zones() -> None:
    zones = checked_zones(
        [
            draft("  street ", [[0, 0], [1, 0], [1, 0.3], [0, 0.3]], "ignore"),
            draft("driveway", action="watch", objects=["car", "person", "car"]),
        ],
        KNOWN,
    )
    assert zones == [
        Zone(
            name="street",
            points=[(0, 0), (1, 0), (1, 0.3), (0, 0.3)],
            action=ZoneAction.IGNORE,
        ),
        Zone(name="driveway", points=SQUARE, action=ZoneAction.WATCH, objects=["car", "person"]),
    ]
    assert checked_zones([], KNOWN) == []


@pytest.mark.parametrize(
    ("drafts", "words"),
    [
        ([draft(points=[[0, 0], [1, 0]])], ["zone 1 ('porch')", "2 points", "at least 3"]),
        ([draft(points=[[0, 0], [1.2, 0], [1, 1]])], ["point 2", "outside the frame", "0 to 1"]),
        ([draft(points=[[0, 0], [-0.1, 0], [1, 1]])], ["point 2", "outside the frame"]),
        ([draft(points=[[0, 0], [1, 1], [1, 0], [0, 1]])], ["crosses itself", "edge 1", "edge 3"]),
        ([draft(points=[[0, 0], [0.5, 0.5], [1, 1]])], ["no area"]),
        ([draft(points=[[0, 0], [0, 0], [1, 1], [0, 1]])], ["point 1 repeats"]),
        ([draft(points=[[0, 0, 0], [1, 0], [1, 1]])], ["point 1", "[x, y]"]),
        ([draft(name=" ")], ["zone 1", "name is empty"]),
        ([draft(name="a\x00b")], ["control characters"]),
        ([draft(name="x" * 61)], ["over 60 characters"]),
        ([draft(), draft(name="Porch")], ["zone 2", "'Porch' is taken by zone 1"]),
        ([draft(action="alarm")], ["unknown action 'alarm'", "'watch' or 'ignore'"]),
        ([draft(objects=["car", "unicorn"])], ["unknown object kind 'unicorn'", "person"]),
        ([draft(objects=[])], ["objects is empty"]),
        ([draft(name=f"z{i}") for i in range(MAX_ZONES + 1)], [f"at most {MAX_ZONES}"]),
        (
            [draft(points=[[i / 100, (i % 2) / 2] for i in range(MAX_POINTS + 1)])],
            [f"at most {MAX_POINTS}"],
        ),
    ],
)
def test_a_bad_list_is_refused_saying_what_is_wrong(drafts, words) -> None:
    with pytest.raises(InvalidZones) as refused:
        checked_zones(drafts, KNOWN)
    for word in words:
        assert word in str(refused.value)
