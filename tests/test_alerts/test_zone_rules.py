"""Alert rules that require zones (issue 23): matched when the event has a detection in one of
them; the rule's zones through the API and its store; the event's zones read from its
detections."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from homesec.contract.alerts import AlertRule, JudgedEvent
from homesec.models import Detection
from homesec.policy.alert_rules import match_failure
from homesec.store import alert_facts

AT = dt.datetime(2025, 12, 5, 23, 30, tzinfo=dt.UTC)


def event(zones: tuple[str, ...]) -> JudgedEvent:
    return JudgedEvent(
        event_id=1,
        camera_id="porch",
        risk_score=70,
        risk_level="high",
        is_fast_path=False,
        started_at=AT,
        confidences={"person": 0.9},
        zones=zones,
    )


def test_a_rule_with_zones_matches_only_events_with_a_detection_in_one_of_them() -> None:
    rule = AlertRule(name="door", zones=("front door", "gate"))
    assert match_failure(rule, event(("Front Door", "street")), dt.UTC) is None  # case aside
    assert match_failure(rule, event(("gate",)), dt.UTC) is None
    assert match_failure(rule, event(("street",)), dt.UTC) == (
        "no detection in the zones front door, gate"
    )
    assert match_failure(rule, event(()), dt.UTC) == "no detection in the zones front door, gate"
    # A rule without zones matches wherever the detections stood.
    assert match_failure(AlertRule(name="any"), event(()), dt.UTC) is None


async def test_the_events_zones_are_read_from_its_detections(rows, db_sessions) -> None:
    await rows.camera("porch", "Porch")
    first = await rows.detection("porch", at=AT)
    second = await rows.detection("porch", at=AT)
    old = await rows.detection("porch", at=AT)  # stored before zones: NULL
    async with db_sessions.begin() as session:
        await session.execute(
            update(Detection).where(Detection.id == first).values(zones=["porch", "street"])
        )
        await session.execute(
            update(Detection).where(Detection.id == second).values(zones=["gate"])
        )
    event_id = await rows.event(
        "porch", [first, second, old], score=70, level="high", fast_path=False, at=AT
    )
    async with db_sessions() as session:
        [decidable] = await alert_facts.events_after(session, 0, 10)
    assert decidable.facts.event_id == event_id
    assert decidable.facts.zones == ("porch", "street", "gate")


async def test_a_rules_zones_are_created_changed_and_checked_through_the_api(make_client):
    async with make_client() as client:
        created = await client.post(
            "/api/alerts/rules", json={"name": "At the door", "zones": ["front door"]}
        )
        assert created.status_code == 201, created.text
        assert created.json()["zones"] == ["front door"]
        url = f"/api/alerts/rules/{created.json()['id']}"
        changed = await client.patch(url, json={"zones": ["gate", "porch"]})
        assert changed.json()["zones"] == ["gate", "porch"]
        assert (await client.get(url)).json()["zones"] == ["gate", "porch"]
        for bad in ([""], ["x" * 61], "porch"):
            refused = await client.patch(url, json={"zones": bad})
            assert refused.status_code == 400, (bad, refused.text)
        assert (await client.get(url)).json()["zones"] == ["gate", "porch"]
        # Without zones, a rule has none (and older rules read back with none).
        plain = await client.post("/api/alerts/rules", json={"name": "plain"})
        assert plain.json()["zones"] == []
