"""Pure scoring rules: camera roles, time of day, habits, the weapon floor, scenes."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from homesec.contract.analysis import (
    AnalysisContext,
    CameraBaseline,
    DetectionSummary,
    KindHabit,
    RiskAssessment,
)
from homesec.contract.enums import CameraRole
from homesec.policy import scene
from homesec.policy.scoring import (
    Habit,
    apply_weapon_floor,
    camera_role,
    guess_role,
    habit_adjustment,
    habit_of,
    time_of_day,
    weapon_floor,
)

ZONE = dt.timezone(dt.timedelta(hours=1))


def at(hour, minute=0):
    return dt.datetime(2026, 3, 4, hour, minute, tzinfo=ZONE)


def detection(object_type, when, detection_id=1, confidence=0.9):
    return DetectionSummary(
        detection_id=detection_id, object_type=object_type, confidence=confidence, detected_at=when
    )


def context(when, *types):
    return AnalysisContext(
        camera_id="cam",
        camera_name="Cam",
        local_time=when,
        detections=[detection(t, when, i) for i, t in enumerate(types)],
    )


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Front Door", CameraRole.ENTRANCE),
        ("FrontDoor", CameraRole.ENTRANCE),
        ("garage_door", CameraRole.GARAGE),
        ("Side Gate", CameraRole.ENTRANCE),
        ("Front Yard", CameraRole.YARD),
        ("Backyard", CameraRole.YARD),
        ("Street Cam", CameraRole.STREET),
        ("Driveway", CameraRole.DRIVEWAY),
        ("Living Room", CameraRole.INDOOR),
        ("Outdoor", None),
        ("Cam 1", None),
    ],
)
def test_roles_guessed_from_names(name, role):
    assert guess_role(name) == role


def test_an_explicit_role_wins_and_an_unknown_one_is_ignored():
    assert camera_role("Front Door", "street").role is CameraRole.STREET
    assert camera_role("Front Door", "street").source == "set"
    assert camera_role("Front Door", "moat").role is CameraRole.ENTRANCE
    assert camera_role("Cam 1", None).source == "default"


@pytest.mark.parametrize(
    ("hour", "part"),
    [(0, "night"), (4, "night"), (5, "dawn"), (6, "dawn"), (7, "day"), (18, "day"),
     (19, "evening"), (21, "evening"), (22, "night")],
)  # fmt: skip
def test_time_of_day(hour, part):
    assert time_of_day(at(hour, 30)) == part


def test_habits_need_history_and_move_the_presence_both_ways():
    assert habit_of(None, "person") is None
    assert habit_of(CameraBaseline(history_days=5, hour=3), "person") is None
    baseline = CameraBaseline(
        history_days=30, hour=3, habits=[KindHabit(kind="person", days_seen=21)]
    )
    assert habit_of(baseline, "person") == Habit(21, 30)
    assert habit_of(baseline, "vehicle") == Habit(0, 30)
    assert habit_adjustment(70, Habit(0, 30)) == 10  # never: rare, up
    assert habit_adjustment(70, Habit(21, 30)) == -42  # usual: 60% off at most
    assert -42 < habit_adjustment(70, Habit(6, 30)) < 0


def test_the_weapon_floor_needs_a_person_and_depends_on_the_dark():
    assert weapon_floor(context(at(3), "knife")) is None
    assert weapon_floor(context(at(3), "person", "car")) is None
    assert weapon_floor(context(at(3), "person", "knife")).score == 85
    assert weapon_floor(context(at(6), "person", "scissors")).score == 85
    assert weapon_floor(context(at(14), "person", "baseball bat")).score == 60


def test_the_floor_raises_a_low_verdict_and_says_so_but_never_lowers():
    scene_ = context(at(2), "person", "knife")
    low = RiskAssessment(risk_score=12, summary="s", reasoning="LLM: a person cooking.")
    raised = apply_weapon_floor(scene_, low)
    assert raised.risk_score == 85
    assert raised.reasoning.startswith("Weapon floor: raised from 12 to 85")
    assert "no engine may score it lower" in raised.reasoning
    assert raised.reasoning.endswith("LLM: a person cooking.")
    high = RiskAssessment(risk_score=97, summary="s", reasoning="r")
    assert apply_weapon_floor(scene_, high) == high
    calm = context(at(2), "person")
    assert apply_weapon_floor(calm, low) == low


def test_scenes_count_objects_and_frames():
    t0 = at(12)
    detections = [
        detection("person", t0 + dt.timedelta(seconds=10 * f), 10 * f + i)
        for f in range(5)
        for i in range(2)
    ] + [detection("car", t0, 99)]
    assert scene.describe_objects(detections) == "2 people and 1 car, seen in 5 frames over 40 s"
    assert scene.describe_objects([detection("bus", t0)]) == "1 bus, seen in 1 frame"
    assert scene.describe_objects([]) == "nothing"
    assert scene.by_kind(detections)["person"].most_at_once == 2
    assert scene.kind_of("Baseball Bat") == scene.WEAPON
    assert scene.kind_of("potted plant") == scene.OTHER
    assert scene.class_noun("bus", 2) == "buses" and scene.class_noun("knife", 3) == "knives"


def test_the_weapon_floor_follows_the_risk_bands():
    from homesec.settings import RiskBands

    bands = RiskBands(medium=20, high=50, critical=90)
    assert weapon_floor(context(at(3), "person", "knife"), bands).score == 90
    assert weapon_floor(context(at(14), "person", "knife"), bands).score == 50
    low = RiskAssessment(risk_score=10, summary="s", reasoning="r")
    assert apply_weapon_floor(context(at(3), "person", "knife"), low, bands).risk_score == 90


def test_a_frame_is_an_image_not_a_detector_batch():
    """The detector stamps every image of one of its batches with one time: seven images read
    in four batches are seven frames, as the event page counts them."""
    t0 = at(13)
    offsets = (0, 0, 9, 9, 18, 18, 27)
    detections = [
        DetectionSummary(
            detection_id=n, object_type="person", confidence=0.9,
            detected_at=t0 + dt.timedelta(seconds=offset), image=f"/cameras/door/{n}.jpg",
        )
        for n, offset in enumerate(offsets)
    ]  # fmt: skip
    assert scene.frame_count(detections) == 7
    assert scene.by_kind(detections)["person"].frames == 7
    assert scene.by_kind(detections)["person"].seconds == 27
    assert scene.describe_objects(detections) == "1 person, seen in 7 frames over 27 s"
    # Without the image, a timestamp still stands for a frame (as before).
    unnamed = [msgspec.structs.replace(d, image="") for d in detections]
    assert scene.frame_count(unnamed) == 4


def test_a_summary_says_the_frames_the_facts_say():
    said = "7 people and 3 dogs, seen in 4 frames over 27 s at Front Door at 13:01 (day)."
    assert scene.restate_frames(said, 7, 27.4) == (
        "7 people and 3 dogs, seen in 7 frames over 27 s at Front Door at 13:01 (day)."
    )
    assert scene.restate_frames("A person, seen in 1 frame.", 3, 8) == "A person, seen in 3 frames."
    assert scene.restate_frames("Two people in 5 frames over 9 s.", 1, 0) == (
        "Two people in 1 frame."
    )
    # Text that counts no frames is left as it is.
    assert scene.restate_frames("A car in 2 minutes.", 4, 10) == "A car in 2 minutes."
