"""How the owner's zones move the rules' score (policy/zone_scoring.py through
policy/scoring.py's score_by_rules): someone at the porch door at night weighs more than
someone on the pavement, and the reasoning says why."""

from __future__ import annotations

import datetime as dt

import pytest

from homesec.contract.analysis import AnalysisContext, DetectionSummary
from homesec.engines.llm.rules import assess_by_rules
from homesec.policy.scoring import explain, score_by_rules
from homesec.policy.zone_scoring import PUBLIC, THRESHOLD, zone_class, zone_part

ZONE = dt.timezone(dt.timedelta(hours=1))
NIGHT = dt.datetime(2026, 3, 4, 2, 30, tzinfo=ZONE)
DAY = dt.datetime(2026, 3, 4, 13, 0, tzinfo=ZONE)


def person(zones: list[str], when=NIGHT, detection_id=1, kind="person") -> DetectionSummary:
    return DetectionSummary(
        detection_id=detection_id,
        object_type=kind,
        confidence=0.9,
        detected_at=when,
        image=f"/img/{detection_id}.jpg",
        zones=zones,
    )


def context(*detections: DetectionSummary, when=NIGHT) -> AnalysisContext:
    # "Front" says no role: the default (yard) is the same for every case here.
    return AnalysisContext(
        camera_id="front", camera_name="Front", local_time=when, detections=list(detections)
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("porch", THRESHOLD),
        ("Front Door", THRESHOLD),
        ("side_gate", THRESHOLD),
        ("BackDoor", THRESHOLD),
        ("street door", THRESHOLD),  # a threshold first
        ("pavement", PUBLIC),
        ("the street", PUBLIC),
        ("driveway", None),
        ("tree", None),
    ],
)
def test_a_zones_name_says_its_class(name, kind) -> None:
    found = zone_class(name)
    assert (found.name if found else None) == kind


def test_someone_at_the_porch_door_at_night_outscores_someone_on_the_pavement() -> None:
    porch = score_by_rules(context(person(["porch door"])))
    pavement = score_by_rules(context(person(["pavement"])))
    nowhere = score_by_rules(context(person([])))
    assert porch.score > nowhere.score > pavement.score
    assert porch.score - nowhere.score == 20
    assert nowhere.score - pavement.score == 15
    reasoning = explain(porch)
    assert "a person in the zone 'porch door' (a way into the house) at night: +20" in reasoning
    assert "people only in the zone 'pavement' (public ground): -15" in explain(pavement)


def test_the_threshold_weighs_less_by_day() -> None:
    part = zone_part([person(["porch"], when=DAY)], "day")
    assert part is not None and part.points == 5


def test_people_lower_the_score_only_when_every_one_stood_on_public_ground() -> None:
    both = [person(["street"]), person(["garden"], detection_id=2)]
    assert zone_part(both, "night") is None
    one_at_the_door = [person(["street"]), person(["front door"], detection_id=2)]
    part = zone_part(one_at_the_door, "night")
    assert part is not None and part.points == 20


def test_zones_of_other_objects_or_without_a_meaning_say_nothing() -> None:
    assert zone_part([person(["porch"], kind="car")], "night") is None
    assert zone_part([person(["driveway", "tree"])], "night") is None
    assert zone_part([person([])], "night") is None
    # Without zones the rules score exactly as before.
    assert all("zone" not in part.why for part in score_by_rules(context(person([]))).parts)


def test_the_rules_engine_says_the_zone_in_its_reasoning() -> None:
    assessment = assess_by_rules(context(person(["Porch"])))
    assert "the zone 'Porch' (a way into the house) at night" in assessment.reasoning
