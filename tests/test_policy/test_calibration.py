"""The owner's feedback as a camera's calibration: bounds, decay, the minimum count, mixed and
changed verdicts, and the weapon floor; then as the rules engine and the prompt use it."""

from __future__ import annotations

import datetime as dt
import itertools

import msgspec
import pytest

from homesec.contract.analysis import (
    AnalysisContext,
    CameraCalibration,
    DetectionSummary,
    KindCalibration,
)
from homesec.engines.llm.rules import assess_by_rules
from homesec.policy import calibration as cal
from homesec.policy.calibration import (
    FeedbackFact,
    calibrate,
    calibrated_score,
    kind_offset,
    latest_per_visit,
    pull,
    weight,
)
from homesec.policy.prompt import SYSTEM_PROMPT, prompt_data
from homesec.policy.scoring import score_by_rules

NOW = dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC)
_visits = itertools.count(1)


def said(
    feedback: str = "false_alarm",
    *,
    days_ago: float = 0.0,
    kinds: tuple[str, ...] = ("person",),
    should_be: str | None = None,
    scored: str | None = "high",
    visit: int | None = None,
) -> FeedbackFact:
    return FeedbackFact(
        visit_id=next(_visits) if visit is None else visit,
        given_at=NOW - dt.timedelta(days=days_ago),
        feedback=feedback,
        should_be=should_be,
        scored=scored,
        kinds=frozenset(kinds),
    )


def higher(**fields) -> FeedbackFact:
    fields.setdefault("scored", "low")
    return said("wrong_severity", should_be="high", **fields)


def lower(**fields) -> FeedbackFact:
    return said("wrong_severity", should_be="low", **fields)


def person_offset(facts: list[FeedbackFact]) -> int:
    calibration = calibrate(facts, NOW)
    assert calibration is not None
    person = calibration.of("person")
    assert person is not None
    return person.offset


# --- the verdicts -------------------------------------------------------------------------------
def test_each_verdict_pulls_its_way():
    assert pull(said("false_alarm")) == -1
    assert pull(higher()) == 1
    assert pull(lower()) == -1
    assert pull(said("wrong_severity", should_be="critical", scored="high")) == 1
    # The band the event already had, or bands nobody knows, say nothing about the score.
    assert pull(said("wrong_severity", should_be="high", scored="high")) == 0
    assert pull(said("wrong_severity", should_be="high", scored=None)) == 0
    assert pull(said("wrong_severity", should_be="enormous", scored="high")) == 0
    assert pull(said("something_else")) == 0


def test_a_verdict_weighs_half_after_each_half_life_and_a_future_one_fully():
    assert weight(dt.timedelta(0)) == 1.0
    assert weight(dt.timedelta(days=cal.HALF_LIFE_DAYS)) == pytest.approx(0.5)
    assert weight(dt.timedelta(days=2 * cal.HALF_LIFE_DAYS)) == pytest.approx(0.25)
    assert weight(dt.timedelta(days=-3)) == 1.0  # a clock ahead must not inflate a verdict


# --- the offset ---------------------------------------------------------------------------------
def test_nothing_moves_below_the_minimum_count():
    assert cal.MIN_FEEDBACK == 3
    assert person_offset([said(), said()]) == 0
    assert person_offset([said(), said(), said()]) == -9  # 15 * 3 / 5
    # Verdicts that say nothing do not count towards the minimum.
    neutral = said("wrong_severity", should_be="high", scored="high")
    assert person_offset([said(), said(), neutral]) == 0


def test_the_offset_is_bounded_both_ways():
    assert person_offset([said() for _ in range(5)]) == -cal.MAX_OFFSET
    assert person_offset([said() for _ in range(40)]) == -15
    assert person_offset([higher() for _ in range(40)]) == 15
    assert person_offset([lower() for _ in range(7)]) == -15
    # Whatever the weights, the bound holds.
    assert kind_offset([(100.0, -1)] * 3) == -15 and kind_offset([(100.0, 1)] * 3) == 15


def test_old_feedback_fades_and_feedback_beyond_the_window_is_not_read():
    fresh = person_offset([said() for _ in range(5)])
    month = person_offset([said(days_ago=28) for _ in range(5)])  # weight 1/4 each
    assert (fresh, month) == (-15, -4)  # round(15 * -1.25 / 5)
    assert calibrate([said(days_ago=cal.WINDOW_DAYS + 1) for _ in range(9)], NOW) is None
    # Fresh verdicts outweigh old ones that said the opposite.
    mixed = [higher(days_ago=40) for _ in range(4)] + [said() for _ in range(4)]
    assert person_offset(mixed) < -9


def test_mixed_feedback_cancels_out():
    assert person_offset([said(), said(), higher(), higher()]) == 0
    # 4 false alarms and 1 "should be higher": a net 3 of 5 fresh verdicts down.
    assert person_offset([said(), said(), said(), said(), higher()]) == -9


def test_the_latest_word_on_a_visit_wins_and_a_visit_counts_once():
    changed = [said(visit=7, days_ago=2), higher(visit=7, days_ago=1)]
    [kept] = latest_per_visit(changed)
    assert kept.feedback == "wrong_severity"
    # The fast-path event and the batch event of one visit share it: two clicks, one visit.
    calibration = calibrate([said(visit=8), said(visit=8), said(visit=8)], NOW)
    assert calibration is not None
    person = calibration.of("person")
    assert person == KindCalibration(
        kind="person", events=1, false_alarms=1, offset=0, window_days=cal.WINDOW_DAYS
    )


def test_a_verdict_counts_for_every_kind_its_event_showed_and_no_other():
    facts = [said(kinds=("person", "vehicle")) for _ in range(3)] + [said(kinds=("animal",))]
    calibration = calibrate(facts, NOW)
    assert calibration is not None
    assert [k.kind for k in calibration.kinds] == ["person", "vehicle", "animal"]
    assert calibration.of("person").offset == calibration.of("vehicle").offset == -9
    assert calibration.of("animal").offset == 0 and calibration.of("animal").events == 1
    assert calibration.of("bag") is None
    # An event whose detections are gone shows no kind, so says nothing.
    assert calibrate([said(kinds=()) for _ in range(5)], NOW) is None


def test_the_counts_say_what_the_owner_said():
    person = calibrate([said(), said(), lower(), higher(), higher()], NOW).of("person")
    assert (person.events, person.false_alarms, person.lower, person.higher) == (5, 2, 1, 2)
    assert cal.in_words(person) == (
        "the last 5 person events on this camera with feedback in 60 days: 2 marked false "
        "alarms, 1 should have been lower, 2 should have been higher"
    )
    one = calibrate([said(kinds=("vehicle",))], NOW).of("vehicle")
    assert cal.in_words(one) == (
        "the last vehicle event on this camera with feedback in 60 days: 1 marked a false alarm"
    )


# --- the floor ------------------------------------------------------------------------------------
def test_a_calibrated_score_never_crosses_the_weapon_floor():
    assert calibrated_score(90, -15, 85) == 85
    assert calibrated_score(85, -15, 85) == 85
    assert calibrated_score(95, -5, 85) == 90
    assert calibrated_score(70, 10, 60) == 80
    # Below the floor already (the floor lifts it afterwards): the offset moves it as usual.
    assert calibrated_score(50, -10, 60) == 40
    assert calibrated_score(50, -10, None) == 40
    assert calibrated_score(5, -15, None) == 0 and calibrated_score(95, 15, None) == 100


# --- the rules and the prompt -----------------------------------------------------------------
LOCAL = dt.timezone(dt.timedelta(hours=1))
NIGHT = dt.datetime(2026, 12, 4, 2, 30, tzinfo=LOCAL)


def context(*object_types: str, calibration: CameraCalibration | None = None) -> AnalysisContext:
    return AnalysisContext(
        camera_id="yard",
        camera_name="Backyard",
        local_time=NIGHT,
        detections=[
            DetectionSummary(detection_id=n, object_type=t, confidence=0.9, detected_at=NIGHT)
            for n, t in enumerate(object_types, 1)
        ],
        calibration=calibration,
    )


PEOPLE_FALSE_ALARMS = calibrate([said(), said(), said(), said(), higher()], NOW)


def test_the_rules_apply_the_offset_and_say_why():
    plain = assess_by_rules(context("person"))
    calibrated = assess_by_rules(context("person", calibration=PEOPLE_FALSE_ALARMS))
    assert plain.risk_score == 70
    assert calibrated.risk_score == 61
    assert calibrated.reasoning.endswith(
        "(subtotal 70); adjusted by the owner's feedback (the last 5 person events on this "
        "camera with feedback in 60 days: 4 marked false alarms, 1 should have been higher): -9."
    )
    assert "owner's feedback" not in plain.reasoning
    # Another kind on the same camera has no feedback: untouched.
    assert assess_by_rules(context("car", calibration=PEOPLE_FALSE_ALARMS)) == assess_by_rules(
        context("car")
    )


def test_too_little_feedback_is_shown_but_moves_nothing():
    few = calibrate([said(), said()], NOW)
    result = score_by_rules(context("person", calibration=few))
    assert result.score == 70 and result.adjustment is not None
    assert result.adjustment.points == 0
    assert (
        "too few verdicts to adjust"
        in assess_by_rules(context("person", calibration=few)).reasoning
    )


def test_feedback_never_takes_a_person_with_a_knife_below_the_weapon_floor():
    many = calibrate([said(kinds=("person", "weapon")) for _ in range(9)], NOW)
    at_night = assess_by_rules(context("person", "knife", calibration=many))
    assert at_night.risk_score == 85  # 100 - 15: critical at night still
    assert at_night.reasoning.endswith(": -15.")
    # In the evening (floor: high, 60) a person with a knife at the yard scores 65; -9 would take
    # it to 56, so the feedback takes off only what the floor allows.
    some = calibrate([said(kinds=("person", "weapon")) for _ in range(3)], NOW)
    evening = msgspec.structs.replace(
        context("person", "knife", calibration=some), local_time=NIGHT.replace(hour=20)
    )
    result = score_by_rules(evening)
    assert (result.subtotal, result.score) == (65, 60)
    assert assess_by_rules(evening).reasoning.endswith(", -9 limited by the weapon floor: -5.")


def test_the_prompt_carries_the_feedback_as_data():
    data = prompt_data(context("person", calibration=PEOPLE_FALSE_ALARMS))
    assert data["owner_feedback"] == {
        "people": {
            "events_with_feedback": 5,
            "marked_false_alarm": 4,
            "should_have_been_lower": 0,
            "should_have_been_higher": 1,
            "rules_adjustment": -9,
            "over_last_days": 60,
        }
    }
    assert prompt_data(context("person"))["owner_feedback"].startswith("no feedback")
    assert "owner_feedback" in SYSTEM_PROMPT
