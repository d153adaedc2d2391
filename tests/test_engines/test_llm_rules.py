"""The rules engine on realistic scenes: deterministic scores in the expected bands."""

from __future__ import annotations

import datetime as dt

from homesec.contract.analysis import AnalysisContext, BoundingBox, DetectionSummary
from homesec.engines.llm import LlmEngine
from homesec.engines.llm.rules import RulesEngine, assess_by_rules

LOCAL = dt.timezone(dt.timedelta(hours=2))
NOON = dt.datetime(2024, 6, 12, 12, 0, tzinfo=LOCAL)
THREE_AM = dt.datetime(2024, 6, 12, 3, 0, tzinfo=LOCAL)
BOX = BoundingBox(10, 10, 50, 100)


def seen(object_type, at, confidence=0.9, frame=0, detection_id=1):
    return DetectionSummary(
        detection_id=detection_id,
        object_type=object_type,
        confidence=confidence,
        detected_at=at + dt.timedelta(seconds=frame),
        bbox=BOX,
    )


def scene(camera_name, at, *detections):
    return AnalysisContext(
        camera_id="cam", camera_name=camera_name, local_time=at, detections=list(detections)
    )


async def test_it_is_an_llm_engine():
    engine = RulesEngine()
    assert isinstance(engine, LlmEngine) and engine.name == "rules"
    context = scene("Garden", NOON, seen("cat", NOON))
    assert await engine.assess(context) == assess_by_rules(context)
    await engine.aclose()


def test_a_cat_at_noon_is_low():
    result = assess_by_rules(scene("Garden", NOON, seen("cat", NOON, 0.88)))
    assert result.risk_score < 30
    assert "animal" in result.reasoning
    assert result.summary == "1 cat detection at Garden at 12:00 (afternoon)."


def test_nothing_detected_is_zero():
    result = assess_by_rules(scene("Garden", THREE_AM))
    assert result.risk_score == 0
    assert "no objects" in result.reasoning


def test_a_person_at_noon_in_the_garden_is_medium():
    result = assess_by_rules(scene("Garden", NOON, seen("person", NOON, 0.9)))
    assert 30 <= result.risk_score < 60


def test_a_person_at_3am_at_the_front_door_is_high():
    result = assess_by_rules(scene("Front Door", THREE_AM, seen("person", THREE_AM, 0.92)))
    assert 60 <= result.risk_score < 85
    assert "people at night: +25" in result.reasoning
    assert "way in" in result.reasoning


def test_several_people_and_a_vehicle_at_night_is_critical():
    detections = [seen("person", THREE_AM, 0.9, frame=0, detection_id=i) for i in range(3)]
    detections.append(seen("car", THREE_AM, 0.8, frame=0, detection_id=9))
    result = assess_by_rules(scene("Driveway", THREE_AM, *detections))
    assert result.risk_score >= 85
    assert "3 people in one frame" in result.reasoning
    assert "people together with a vehicle" in result.reasoning


def test_a_car_passing_at_night_stays_low():
    result = assess_by_rules(scene("Street", THREE_AM, seen("car", THREE_AM, 0.9)))
    assert result.risk_score < 30


def test_low_confidence_lowers_the_score():
    sure = assess_by_rules(scene("Garden", NOON, seen("person", NOON, 0.95)))
    unsure = assess_by_rules(scene("Garden", NOON, seen("person", NOON, 0.55)))
    assert unsure.risk_score < sure.risk_score


def test_outdoor_is_not_a_door():
    outdoor = assess_by_rules(scene("Outdoor Cam", NOON, seen("person", NOON)))
    door = assess_by_rules(scene("Back door", NOON, seen("person", NOON)))
    assert door.risk_score - outdoor.risk_score == 10


def test_lingering_people_and_the_cap_at_100():
    detections = [
        seen("person", THREE_AM, 0.99, frame=f, detection_id=10 * f + i)
        for f in range(6)
        for i in range(5)
    ] + [seen("truck", THREE_AM, 0.9, detection_id=999)]
    result = assess_by_rules(scene("Front Gate", THREE_AM, *detections))
    assert result.risk_score == 100
    assert "(capped at 100)" in result.reasoning
    assert "lingering" in result.reasoning


def test_the_reasoning_adds_up_and_the_result_is_deterministic():
    context = scene("Front Door", THREE_AM, seen("person", THREE_AM, 0.92), seen("dog", THREE_AM))
    first, second = assess_by_rules(context), assess_by_rules(context)
    assert first == second
    points = [int(part.rsplit("+", 1)[1].rstrip(".")) for part in first.reasoning.split(";")]
    assert sum(points) == first.risk_score


def test_hostile_camera_names_are_sanitised_in_the_summary():
    result = assess_by_rules(scene("Gate\n\x1b[31mIGNORE", NOON, seen("dog", NOON)))
    assert "\n" not in result.summary and "\x1b" not in result.summary
