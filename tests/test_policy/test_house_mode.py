"""The house's mode, pure: parsing, MQTT commands, the schedule's edges, how each mode weighs a
visit in the rules, and alert rules that require modes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import msgspec
import pytest

from homesec.contract.alerts import AlertRule, JudgedEvent
from homesec.contract.analysis import AnalysisContext, CameraBaseline, DetectionSummary, KindHabit
from homesec.contract.enums import CameraRole, HouseMode
from homesec.contract.house_mode import ModeChange
from homesec.policy.alert_rules import match_failure
from homesec.policy.house_mode import mqtt_command_mode, parse_mode, scheduled_mode
from homesec.policy.prompt import prompt_data
from homesec.policy.scoring import explain, score_by_rules, weapon_floor

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NIGHT_HOURS = (dt.time(23, 0), dt.time(6, 0))


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


# --- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["home", "away", "night", " Away ", "NIGHT"])
def test_a_mode_is_read_whatever_its_case(text):
    assert parse_mode(text).value == text.strip().lower()


@pytest.mark.parametrize("value", ["holiday", "", None, 3, ["away"]])
def test_an_unknown_mode_is_refused_naming_the_modes(value):
    with pytest.raises(ValueError, match="mode must be one of home, away, night"):
        parse_mode(value)


def test_an_mqtt_command_is_the_option_as_text_and_anything_else_is_ignored():
    assert mqtt_command_mode(b"away") is HouseMode.AWAY
    assert mqtt_command_mode(b"night\n") is HouseMode.NIGHT
    assert mqtt_command_mode(b"vacation") is None
    assert mqtt_command_mode(b"\xff\xfe") is None
    assert mqtt_command_mode(b"") is None


# --- the schedule --------------------------------------------------------------------------------
def change(mode: str, at: dt.datetime | None) -> ModeChange:
    return ModeChange(mode=mode, changed_at=at, changed_by="someone" if at else None)


def test_the_schedule_sets_night_at_its_start_and_home_at_its_end():
    assert scheduled_mode(NIGHT_HOURS, change("home", None), local(3, 23, 1)) is HouseMode.NIGHT
    assert scheduled_mode(NIGHT_HOURS, change("home", local(3, 9)), local(4, 2)) is HouseMode.NIGHT
    assert scheduled_mode(NIGHT_HOURS, change("night", local(3, 23)), local(4, 6)) is HouseMode.HOME
    # Between the edges, with the edge applied: nothing to do.
    assert scheduled_mode(NIGHT_HOURS, change("night", local(3, 23)), local(4, 3)) is None
    assert scheduled_mode(NIGHT_HOURS, change("home", local(4, 6)), local(4, 15)) is None


def test_a_change_after_the_edge_wins_until_the_next_edge():
    # The owner switched back to home at 23:30: the schedule leaves it until 06:00 ...
    assert scheduled_mode(NIGHT_HOURS, change("home", local(3, 23, 30)), local(4, 1)) is None
    # ... and at the next evening's start sets night again.
    assert scheduled_mode(NIGHT_HOURS, change("home", local(3, 23, 30)), local(4, 23)) is not None


def test_the_schedule_never_touches_away():
    assert scheduled_mode(NIGHT_HOURS, change("away", local(3, 9)), local(3, 23, 5)) is None
    assert scheduled_mode(NIGHT_HOURS, change("away", local(3, 9)), local(4, 6, 5)) is None


def test_a_restart_that_missed_an_edge_applies_it_late():
    assert (
        scheduled_mode(NIGHT_HOURS, change("night", local(2, 23)), local(3, 14)) is HouseMode.HOME
    )


def test_night_hours_within_one_day_work_too():
    early = (dt.time(1, 0), dt.time(5, 0))
    assert scheduled_mode(early, change("home", local(3, 9)), local(3, 23)) is None
    assert scheduled_mode(early, change("home", local(3, 9)), local(4, 2)) is HouseMode.NIGHT


# --- scoring --------------------------------------------------------------------------------------
def person(when: dt.datetime, confidence: float = 0.92) -> DetectionSummary:
    return DetectionSummary(
        detection_id=1, object_type="person", confidence=confidence, detected_at=when
    )


# The family is in the garden every afternoon: people at 15:00 are usual on this camera.
FAMILY_HABIT = CameraBaseline(
    history_days=30, hour=15, habits=[KindHabit(kind="person", days_seen=24)], calendar_days=30
)


def garden(when: dt.datetime, mode: str, *, baseline=FAMILY_HABIT, extra=()) -> AnalysisContext:
    return AnalysisContext(
        camera_id="garden",
        camera_name="Garden",
        camera_role=CameraRole.YARD.value,
        local_time=when,
        detections=[person(when), *extra],
        baseline=baseline,
        house_mode=mode,
    )


def test_switching_to_away_raises_a_daytime_visit_and_says_why():
    at_home = score_by_rules(garden(local(3, 15), "home"))
    away = score_by_rules(garden(local(3, 15), "away"))
    assert at_home.score < 30  # the family in the garden: routine
    assert away.score >= 60  # the same visit while away: high, the default rule's band
    reasoning = explain(away)
    assert "the house is set to away" in reasoning
    assert "not counted: the house is set to away" in reasoning  # the family's habits
    assert "away" not in explain(at_home)


def test_away_makes_a_car_pulling_in_by_day_worth_a_glance():
    when = local(3, 13)
    car = DetectionSummary(detection_id=1, object_type="car", confidence=0.9, detected_at=when)
    cars_usual = CameraBaseline(
        history_days=30, hour=13, habits=[KindHabit(kind="vehicle", days_seen=25)]
    )
    drive = AnalysisContext(
        camera_id="drive",
        camera_name="Driveway",
        local_time=when,
        detections=[car],
        baseline=cars_usual,
        house_mode="home",
    )
    away = score_by_rules(msgspec.structs.replace(drive, house_mode="away"))
    assert score_by_rules(drive).score < 30 <= away.score < 60
    assert "the house is set to away: vehicles by day" in explain(away)


def test_night_mode_does_not_let_the_evening_habits_lower_people():
    evening = local(3, 21, 30)
    habit = CameraBaseline(
        history_days=30, hour=21, habits=[KindHabit(kind="person", days_seen=10)]
    )
    home = score_by_rules(garden(evening, "home", baseline=habit))
    night = score_by_rules(garden(evening, "night", baseline=habit))
    assert night.score >= 60 > home.score
    assert "not counted: the house is set to night" in explain(night)


def test_home_scores_exactly_as_a_context_without_a_mode():
    for when in (local(3, 3), local(3, 15), local(3, 20)):
        plain = AnalysisContext(
            camera_id="garden",
            camera_name="Garden",
            camera_role="yard",
            local_time=when,
            detections=[person(when)],
            baseline=FAMILY_HABIT,
        )
        assert score_by_rules(garden(when, "home")) == score_by_rules(plain)


def test_away_at_night_adds_nothing_the_dark_does_not_already_weigh():
    night = local(3, 2)
    assert (
        score_by_rules(garden(night, "away")).score == score_by_rules(garden(night, "home")).score
    )


def test_away_leaves_street_passers_by_ordinary_but_says_so():
    when = local(3, 15)
    street = AnalysisContext(
        camera_id="street",
        camera_name="Street",
        local_time=when,
        detections=[person(when)],
        house_mode="away",
    )
    home = msgspec.structs.replace(street, house_mode="home")
    assert score_by_rules(street).score == score_by_rules(home).score
    assert "the house is set to away" in explain(score_by_rules(street))


def test_night_weighs_the_afternoon_like_the_dark_hours():
    when = local(3, 15)
    night_mode = score_by_rules(garden(when, "night", baseline=None))
    real_night = score_by_rules(garden(local(3, 2), "home", baseline=None))
    assert night_mode.score == real_night.score > score_by_rules(garden(when, "home")).score
    assert night_mode.part_of_day == "night"
    assert "the house is set to night: by the clock it is day" in explain(night_mode)


def test_night_mode_raises_the_weapon_floor_to_critical():
    when = local(3, 15)
    knife = DetectionSummary(detection_id=2, object_type="knife", confidence=0.9, detected_at=when)
    home = weapon_floor(garden(when, "home", extra=[knife]))
    night = weapon_floor(garden(when, "night", extra=[knife]))
    assert home is not None and night is not None
    assert night.score > home.score


def test_the_prompt_gets_the_mode_as_data():
    assert prompt_data(garden(local(3, 15), "away"))["house_mode"] == "away"
    assert prompt_data(garden(local(3, 15), "home"))["house_mode"] == "home"


# --- alert rules ---------------------------------------------------------------------------------
def facts(mode: str) -> JudgedEvent:
    return JudgedEvent(
        event_id=1,
        camera_id="garden",
        risk_score=70,
        risk_level="high",
        is_fast_path=False,
        started_at=local(3, 15),
        confidences={"person": 0.9},
        house_mode=mode,
    )


def test_an_alert_rule_can_require_modes():
    away_only = AlertRule(name="away", modes=("away", "night"))
    assert match_failure(away_only, facts("away"), BERLIN) is None
    assert match_failure(away_only, facts("night"), BERLIN) is None
    assert (
        match_failure(away_only, facts("home"), BERLIN) == "the house was home, not away or night"
    )
    # A rule without modes holds in every mode, as every rule did before modes.
    for mode in ("home", "away", "night"):
        assert match_failure(AlertRule(name="any"), facts(mode), BERLIN) is None
