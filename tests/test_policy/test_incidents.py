"""Which visit joins which incident, with fixed clocks: the window, other cameras only,
chaining, and how an incident is told and scored."""

from __future__ import annotations

import datetime as dt

import msgspec

from homesec.contract.analysis import IncidentVisit
from homesec.policy.incidents import (
    INCIDENT_WINDOW_SECONDS,
    Joining,
    VisitSpan,
    cameras_in_order,
    gap_seconds,
    grew,
    incident_score,
    joining,
    story_line,
    told_before,
    told_kinds,
)

T0 = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)
WINDOW = INCIDENT_WINDOW_SECONDS


def span(event_id, camera, start_s, end_s, incident=None) -> VisitSpan:
    return VisitSpan(
        event_id=event_id,
        camera_id=camera,
        started_at=T0 + dt.timedelta(seconds=start_s),
        ended_at=T0 + dt.timedelta(seconds=end_s),
        incident_id=incident,
    )


def test_the_window_defaults_to_two_minutes():
    assert WINDOW == 120


def test_the_gap_is_between_the_spans_and_zero_when_they_overlap():
    assert gap_seconds(span(1, "a", 0, 30), span(2, "b", 90, 100)) == 60
    assert gap_seconds(span(2, "b", 90, 100), span(1, "a", 0, 30)) == 60
    assert gap_seconds(span(1, "a", 0, 30), span(2, "b", 20, 40)) == 0


def test_another_cameras_visit_60_s_later_starts_an_incident():
    driveway = span(1, "driveway", 0, 20)
    door = span(2, "back_door", 80, 95)
    assert joining(door, [driveway], WINDOW) == Joining(incident_id=None, loose=(1,))


def test_a_visit_10_minutes_later_stands_alone():
    assert joining(span(2, "back_door", 620, 640), [span(1, "driveway", 0, 20)], WINDOW) is None


def test_the_window_edge_is_inside():
    assert joining(span(2, "b", 140, 150), [span(1, "a", 0, 20)], WINDOW) is not None
    assert joining(span(2, "b", 141, 150), [span(1, "a", 0, 20)], WINDOW) is None


def test_the_same_camera_again_is_no_reason():
    assert joining(span(2, "driveway", 60, 70), [span(1, "driveway", 0, 20)], WINDOW) is None


def test_the_same_camera_joins_through_another_cameras_member():
    recent = [span(1, "driveway", 0, 20, incident=7), span(2, "door", 60, 80, incident=7)]
    assert joining(span(3, "driveway", 150, 160), recent, WINDOW) == Joining(incident_id=7)


def test_chaining_a_then_b_then_c_is_one_incident():
    # C is 4 minutes after A, but 1 minute after B, which is in A's incident.
    recent = [span(1, "a", 0, 20, incident=5), span(2, "b", 100, 180, incident=5)]
    assert joining(span(3, "c", 240, 250), recent, WINDOW) == Joining(incident_id=5)


def test_the_nearest_incident_wins_and_loose_visits_come_along():
    recent = [
        span(1, "a", 0, 10, incident=4),
        span(2, "b", 80, 100, incident=9),
        span(3, "c", 90, 95),
    ]
    assert joining(span(4, "d", 110, 120), recent, WINDOW) == Joining(incident_id=9, loose=(3,))


def test_a_window_of_zero_turns_incidents_off():
    assert joining(span(2, "b", 0, 10), [span(1, "a", 0, 10)], 0) is None


def test_a_visit_never_joins_itself():
    assert joining(span(1, "a", 0, 10), [span(1, "b", 0, 10)], WINDOW) is None


def test_the_incident_never_scores_below_its_worst_visit():
    assert incident_score([40, 75, 60]) == 75
    assert incident_score([None, 30]) == 30
    assert incident_score([None]) is None


def visit(event_id, camera_id, name, minute, kinds):
    at = T0 + dt.timedelta(minutes=minute)
    return IncidentVisit(
        event_id=event_id,
        camera_id=camera_id,
        camera_name=name,
        started_at=at,
        ended_at=at + dt.timedelta(seconds=20),
        kinds=kinds,
    )


def test_the_story_tells_the_visits_in_order():
    visits = [
        visit(3, "garage", "Garage", 3, ["vehicle"]),
        visit(1, "driveway", "Driveway", 0, ["person", "vehicle"]),
        visit(2, "back_door", "Back Door", 1, ["person"]),
    ]
    assert story_line(visits, dt.UTC) == (
        "A person at Driveway at 01:00, then at Back Door at 01:01, "
        "then a vehicle at Garage at 01:03."
    )
    assert cameras_in_order(visits) == ["driveway", "back_door", "garage"]
    assert story_line([], dt.UTC) == ""


def test_kinds_are_told_most_concerning_first():
    assert told_kinds(["car", "person", "dog", "car"]) == ["person", "vehicle", "animal"]
    assert told_kinds(["knife", "person"]) == ["weapon", "person"]


def test_a_new_camera_is_news():
    assert grew(["a"], ["a", "b"])
    assert not grew(["a", "b"], ["a", "b"])


def test_a_rule_judges_an_incidents_event_by_the_incidents_score():
    from homesec.contract.alerts import AlertRule, JudgedEvent
    from homesec.policy.alert_rules import match_failure

    event = JudgedEvent(
        event_id=2,
        camera_id="back_door",
        risk_score=40,
        risk_level="medium",
        is_fast_path=False,
        started_at=T0,
    )
    rule = AlertRule(name="high", min_risk_level="high", min_risk_score=60)
    assert match_failure(rule, event, dt.UTC) == "risk level medium is below high"
    in_incident = msgspec.structs.replace(
        event, incident_id=7, incident_risk_score=85, incident_risk_level="critical"
    )
    assert match_failure(rule, in_incident, dt.UTC) is None


def test_a_visits_own_preliminary_verdict_is_not_told_as_an_earlier_visit():
    batch = span(0, "back_door", 60, 90)
    members = [
        span(1, "driveway", 0, 20, incident=3),
        span(2, "back_door", 60, 60, incident=3),  # its fast-path verdict: the same visit
        span(4, "back_door", 10, 15, incident=3),  # an earlier visit of its camera: the story
    ]
    assert [m.event_id for m in told_before(batch, members)] == [1, 4]
