"""Things that stay put: which detections sit where one sat in the camera's last frames."""

from __future__ import annotations

import datetime as dt

from homesec.contract.analysis import BoundingBox
from homesec.policy.stationary import (
    Frame,
    NewFrame,
    Sighting,
    Spot,
    StationaryPolicy,
    iou,
    mark_frames,
)

POLICY = StationaryPolicy(forget_seconds=10 * 60, min_iou=0.7, settle_seconds=120)
NIGHT = dt.datetime(2026, 12, 7, 21, 40, tzinfo=dt.UTC)
CAR = BoundingBox(400, 300, 200, 120)
NEAR_CAR = BoundingBox(404, 302, 198, 118)  # the same car, the detector's boxes wobble
MOVED_CAR = BoundingBox(520, 300, 200, 120)  # driven a few metres on
DOOR = BoundingBox(100, 50, 60, 180)


def minutes(n: float) -> dt.datetime:
    return NIGHT + dt.timedelta(minutes=n)


def frame(name: str, at: dt.datetime, *boxes: tuple[str, BoundingBox]) -> NewFrame:
    return NewFrame(frame=name, at=at, boxes=list(boxes))


def stationary(marks: list[list[Spot]]) -> list[list[bool]]:
    return [[spot.stationary for spot in found] for found in marks]


def test_iou_of_boxes() -> None:
    assert iou(CAR, CAR) == 1.0
    assert iou(CAR, BoundingBox(0, 0, 10, 10)) == 0.0
    assert 0.9 < iou(CAR, NEAR_CAR) < 1.0
    assert iou(CAR, MOVED_CAR) < 0.7
    assert iou(BoundingBox(0, 0, 0, 0), BoundingBox(0, 0, 0, 0)) == 0.0


def test_a_parked_car_stays_stationary_all_night_since_it_was_first_seen() -> None:
    # A snapshot every 5 minutes for 8 hours, the box wobbling a little.
    night = [frame(f"f{i}", minutes(5 * i), ("car", CAR if i % 2 else NEAR_CAR)) for i in range(96)]
    marks = mark_frames([], [], night, POLICY)
    assert marks[0] == [Spot(NIGHT, False)]  # the car arriving counts
    assert all(found == [Spot(NIGHT, True)] for found in marks[1:])  # then parked since 21:40


def test_a_moved_car_counts_again_then_settles_at_its_new_spot() -> None:
    memory = [
        Sighting(object_type="car", bbox=CAR, frame="a", at=minutes(0)),
        Sighting(object_type="car", bbox=CAR, frame="b", at=minutes(5), since=NIGHT),
    ]
    frames = [Frame(frame="a", at=minutes(0)), Frame(frame="b", at=minutes(5))]
    new = [
        frame("c", minutes(8), ("car", MOVED_CAR)),
        frame("d", minutes(9), ("car", MOVED_CAR)),
        frame("e", minutes(10), ("car", MOVED_CAR)),
        frame("f", minutes(11), ("car", MOVED_CAR)),
    ]
    marks = stationary(mark_frames(memory, frames, new, POLICY))
    assert marks == [[False], [False], [True], [True]]  # settled 2 minutes after it moved


def test_a_different_car_after_the_spot_was_forgotten_is_new() -> None:
    memory = [Sighting(object_type="car", bbox=CAR, frame="b", at=minutes(5), since=NIGHT)]
    frames = [Frame(frame="b", at=minutes(5))]
    # The first car left after 21:45; a car parks on the same spot at 22:00.
    later = mark_frames(memory, frames, [frame("c", minutes(20), ("car", CAR))], POLICY)
    assert later == [[Spot(minutes(20), False)]]
    # Seen again within the forget time, it would have been the same parked car.
    sooner = mark_frames(memory, frames, [frame("c", minutes(9), ("car", CAR))], POLICY)
    assert sooner == [[Spot(NIGHT, True)]]


def test_an_empty_frame_between_two_visitors_on_one_spot_breaks_the_chain() -> None:
    memory = [
        Sighting(object_type="person", bbox=DOOR, frame=f"a{i}", at=minutes(i)) for i in range(4)
    ]
    frames = [Frame(frame=f"a{i}", at=minutes(i)) for i in range(4)]
    frames += [Frame(frame=f"empty{i}", at=minutes(4 + i / 10)) for i in range(3)]
    marks = mark_frames(memory, frames, [frame("b", minutes(6), ("person", DOOR))], POLICY)
    assert marks == [[Spot(minutes(6), False)]]


def test_a_burst_of_one_person_at_the_door_is_not_furniture() -> None:
    burst = [frame(f"b{i}", NIGHT + dt.timedelta(seconds=i), ("person", DOOR)) for i in range(5)]
    assert stationary(mark_frames([], [], burst, POLICY)) == [[False]] * 5


def test_a_statue_called_a_person_settles_after_the_settle_time() -> None:
    statue = BoundingBox(700, 200, 40, 90)
    frames = [frame(f"s{i}", minutes(i), ("person", statue)) for i in range(5)]
    marks = stationary(mark_frames([], [], frames, POLICY))
    assert marks == [[False], [False], [True], [True], [True]]


def test_another_kind_on_the_same_spot_and_a_passer_by_count() -> None:
    memory = [Sighting(object_type="car", bbox=CAR, frame="a", at=minutes(0), since=minutes(-5))]
    passer_by = BoundingBox(50, 250, 50, 150)
    marks = mark_frames(
        memory,
        [Frame(frame="a", at=minutes(0))],
        [frame("b", minutes(1), ("car", CAR), ("truck", CAR), ("person", passer_by))],
        POLICY,
    )
    assert stationary(marks) == [[True, False, False]]


def test_frames_are_taken_in_capture_order_and_answered_in_the_order_given() -> None:
    new = [frame(f"f{i}", minutes(2 * i), ("car", CAR)) for i in range(3)]
    assert stationary(mark_frames([], [], list(reversed(new)), POLICY)) == [
        [True],
        [True],
        [False],
    ]


def test_a_later_frame_does_not_count() -> None:
    memory = [Sighting(object_type="car", bbox=CAR, frame="later", at=minutes(20), since=NIGHT)]
    frames = [Frame(frame="later", at=minutes(20))]
    assert mark_frames(memory, frames, [frame("x", minutes(10), ("car", CAR))], POLICY) == [
        [Spot(minutes(10), False)]
    ]


def test_a_forget_time_of_zero_turns_it_off() -> None:
    off = StationaryPolicy(forget_seconds=0)
    new = [frame(f"f{i}", minutes(5 * i), ("car", CAR)) for i in range(5)]
    assert stationary(mark_frames([], [], new, off)) == [[False]] * 5
