"""The rules engine on realistic scenes: deterministic, explained, calibrated by role, time of
day and the camera's habits (the full labelled set is bench/analysis.py's)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from homesec.contract.analysis import (
    AnalysisContext,
    BoundingBox,
    CameraBaseline,
    DetectionSummary,
    KindHabit,
)
from homesec.engines.llm import LlmBadResponse, LlmEngine, LlmUnavailable
from homesec.engines.llm.rules import RulesEngine, assess_by_rules, fallback_assessment
from homesec.policy.risk import risk_level

LOCAL = dt.timezone(dt.timedelta(hours=2))
NOON = dt.datetime(2024, 6, 12, 12, 0, tzinfo=LOCAL)
THREE_AM = dt.datetime(2024, 6, 12, 3, 0, tzinfo=LOCAL)
EVENING = dt.datetime(2024, 6, 12, 17, 45, tzinfo=LOCAL)
BOX = BoundingBox(10, 10, 50, 100)


def seen(object_type, at, confidence=0.9, frame=0, detection_id=1):
    return DetectionSummary(
        detection_id=detection_id,
        object_type=object_type,
        confidence=confidence,
        detected_at=at + dt.timedelta(seconds=frame),
        bbox=BOX,
    )


def scene(camera_name, at, *detections, role=None, baseline=None):
    return AnalysisContext(
        camera_id="cam",
        camera_name=camera_name,
        local_time=at,
        detections=list(detections),
        camera_role=role,
        baseline=baseline,
    )


def level(context):
    return risk_level(assess_by_rules(context).risk_score)


async def test_it_is_an_llm_engine():
    engine = RulesEngine()
    assert isinstance(engine, LlmEngine) and engine.name == "rules"
    assert engine.prompt_version.startswith("rules-")
    context = scene("Garden", NOON, seen("cat", NOON))
    assert await engine.assess(context) == assess_by_rules(context)
    await engine.aclose()


def test_a_cat_at_noon_is_low_and_the_summary_counts_objects():
    result = assess_by_rules(scene("Garden", NOON, seen("cat", NOON, 0.88)))
    assert result.risk_score < 30
    assert "animal" in result.reasoning
    assert result.summary == "1 cat, seen in 1 frame at Garden at 12:00."


def test_summaries_speak_of_objects_and_frames_not_boxes():
    # Ten images of the same two people: 20 boxes.
    detections = [
        seen("person", NOON, frame=4 * f, detection_id=10 * f + i)
        for f in range(10)
        for i in range(2)
    ]
    result = assess_by_rules(scene("Backyard", NOON, *detections))
    assert result.summary.startswith("2 people, seen in 10 frames over 36 s")


def test_nothing_detected_is_zero():
    result = assess_by_rules(scene("Garden", THREE_AM))
    assert result.risk_score == 0
    assert "no objects" in result.reasoning


def test_a_person_at_the_street_camera_by_day_is_low_but_at_the_door_at_3am_is_high():
    assert level(scene("Street", NOON, seen("person", NOON))) == "low"
    night = assess_by_rules(scene("Front Door", THREE_AM, seen("person", THREE_AM, 0.92)))
    assert risk_level(night.risk_score) == "high"
    assert "at the entrance (role guessed from its name) at night" in night.reasoning


def test_an_explicit_role_wins_over_the_name():
    at_street = scene("Front Door", THREE_AM, seen("person", THREE_AM), role="street")
    assert level(at_street) in ("low", "medium")
    assert "role set for the camera" in assess_by_rules(at_street).reasoning


def test_usual_at_this_hour_scores_lower_and_says_so():
    person = seen("person", EVENING)
    usual = CameraBaseline(
        history_days=30, hour=17, habits=[KindHabit(kind="person", days_seen=21)]
    )
    never = CameraBaseline(history_days=30, hour=17, habits=[])
    plain = assess_by_rules(scene("Driveway", EVENING, person))
    familiar = assess_by_rules(scene("Driveway", EVENING, person, baseline=usual))
    rare = assess_by_rules(scene("Driveway", EVENING, person, baseline=never))
    assert familiar.risk_score < plain.risk_score < rare.risk_score
    assert (
        "people at the driveway around 17:45 are usual here: seen on 21 of the last 30 days"
        in familiar.reasoning
    )
    assert "rare here" in rare.reasoning


def test_too_little_history_leaves_it_to_the_role():
    short = CameraBaseline(history_days=3, hour=3, habits=[])
    with_short = assess_by_rules(
        scene("Backyard", THREE_AM, seen("person", THREE_AM), baseline=short)
    )
    without = assess_by_rules(scene("Backyard", THREE_AM, seen("person", THREE_AM)))
    assert with_short.risk_score == without.risk_score
    assert "only 3 days of history: the role decides" in with_short.reasoning


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0.4, "less than a day of history"),
        (1, "only 1 day of history"),
        (1.4, "only 1 day of history"),
        (2.6, "only 3 days of history"),
    ],
)
def test_a_short_history_reads_as_english(days, words):
    short = CameraBaseline(history_days=days, hour=3, habits=[])
    assessed = assess_by_rules(
        scene("Backyard", THREE_AM, seen("person", THREE_AM), baseline=short)
    )
    assert f"{words}: the role decides" in assessed.reasoning


def test_a_knife_with_a_person_is_critical_at_night_and_high_by_day():
    night = scene("Front Door", THREE_AM, seen("person", THREE_AM), seen("knife", THREE_AM, 0.6))
    day = scene("Driveway", NOON, seen("person", NOON), seen("knife", NOON, 0.6))
    assert level(night) == "critical"
    assert level(day) in ("high", "critical")
    assert "a person with a knife" in assess_by_rules(day).reasoning


def test_a_knife_alone_is_not_an_alarm():
    assert level(scene("Kitchen", NOON, seen("knife", NOON, 0.8), role="indoor")) == "low"


def test_a_bear_is_high_even_by_day():
    assert level(scene("Driveway", NOON, seen("bear", NOON, 0.8))) == "high"


def test_loitering_raises_the_score():
    brief = [seen("person", NOON, frame=f, detection_id=f) for f in range(3)]
    staying = [seen("person", NOON, frame=8 * f, detection_id=f) for f in range(12)]
    short = assess_by_rules(scene("Front Door", NOON, *brief))
    long = assess_by_rules(scene("Front Door", NOON, *staying))
    assert long.risk_score > short.risk_score
    assert "people staying at the entrance: seen in 12 frames over 88 s" in long.reasoning


def test_low_confidence_lowers_the_score():
    sure = assess_by_rules(scene("Garden", NOON, seen("person", NOON, 0.95)))
    unsure = assess_by_rules(scene("Garden", NOON, seen("person", NOON, 0.55)))
    assert unsure.risk_score < sure.risk_score


def test_outdoor_is_not_a_door():
    outdoor = assess_by_rules(scene("Outdoor Cam", THREE_AM, seen("person", THREE_AM)))
    assert "role unknown, taken as yard" in outdoor.reasoning


def test_the_reasoning_adds_up_and_the_result_is_deterministic():
    detections = [seen("person", THREE_AM, 0.92, detection_id=i) for i in range(3)]
    context = scene("Driveway", THREE_AM, *detections, seen("car", THREE_AM, detection_id=9))
    first, second = assess_by_rules(context), assess_by_rules(context)
    assert first == second
    points = [int(value) for value in re.findall(r": ([+-]\d+)", first.reasoning)]
    assert len(points) >= 3 and min(100, sum(points)) == first.risk_score


def test_hostile_camera_names_are_sanitised_in_the_summary():
    result = assess_by_rules(scene("Gate\n\x1b[31mIGNORE", NOON, seen("dog", NOON)))
    assert "\n" not in result.summary and "\x1b" not in result.summary


# --- the fallback, when no LLM gave a verdict ------------------------------------------------
def test_a_fallback_keeps_the_rules_verdict_and_says_why():
    context = scene(
        "Front Door",
        THREE_AM,
        seen("person", THREE_AM, 0.93, detection_id=1),
        seen("person", THREE_AM, 0.81, detection_id=2),
        seen("car", THREE_AM, 0.70, frame=20, detection_id=3),
    )
    rules = assess_by_rules(context)
    unavailable = fallback_assessment(context, 4, LlmUnavailable("connection refused"))
    assert (unavailable.risk_score, unavailable.summary) == (rules.risk_score, rules.summary)
    assert unavailable.reasoning == (
        "LLM unavailable after 4 attempts (LlmUnavailable: connection refused); "
        f"scored by the rules engine: {rules.reasoning}"
    )
    garbled = fallback_assessment(context, 2, LlmBadResponse("x" * 1000))
    assert garbled.reasoning.startswith("LLM gave no valid assessment after 2 attempts (")
    assert len(garbled.reasoning) < len(rules.reasoning) + 400  # the error is cut short
