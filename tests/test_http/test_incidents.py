"""``/api/incidents``: incidents with their visits, the review that reviews the visits, and
``incident_id`` on events."""

from __future__ import annotations

import datetime as dt

from homesec.store.analysis import IncidentRules
from tests.support.incidents import write_visit
from tests.support.rows import NOW, add_camera

RULES = IncidentRules(window_seconds=120, zone=dt.UTC)


async def seed(db_sessions, settings):
    for camera in ("driveway", "back_door"):
        await add_camera(db_sessions, settings, camera)
    start = NOW - dt.timedelta(minutes=30)
    first = await write_visit(db_sessions, "driveway", start, score=50, rules=RULES)
    second = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=60), score=72, rules=RULES
    )
    later = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(minutes=10), score=20, rules=RULES
    )
    return start, first, second, later


async def test_an_incident_lists_its_cameras_story_and_visits(client, db_sessions, settings):
    start, first, second, later = await seed(db_sessions, settings)
    page = (await client.get("/api/incidents")).json()
    assert page["next_cursor"] is None
    [incident] = page["items"]
    assert incident["id"] == second.incident_id
    assert incident["cameras"] == [
        {"camera_id": "driveway", "camera_name": "Driveway"},
        {"camera_id": "back_door", "camera_name": "Back Door"},
    ]
    assert (incident["risk_score"], incident["risk_level"]) == (72, "high")
    assert incident["summary"] == (
        f"A person at Driveway at {start:%H:%M}, then at Back Door at "
        f"{start + dt.timedelta(seconds=60):%H:%M}."
    )
    assert (incident["visit_count"], incident["event_ids"]) == (2, [first.id, second.id])

    detail = (await client.get(f"/api/incidents/{incident['id']}")).json()
    assert [visit["id"] for visit in detail["visits"]] == [first.id, second.id]
    assert {visit["incident_id"] for visit in detail["visits"]} == {incident["id"]}

    events = (await client.get("/api/events")).json()["items"]
    assert {event["id"]: event.get("incident_id") for event in events} == {
        first.id: incident["id"],
        second.id: incident["id"],
        later.id: None,
    }


async def test_reviewing_an_incident_reviews_its_visits(client, db_sessions, settings):
    _, first, second, later = await seed(db_sessions, settings)
    response = await client.patch(f"/api/incidents/{second.incident_id}", json={"reviewed": True})
    assert response.status_code == 200
    assert response.json()["reviewed"] is True
    assert [v["reviewed"] for v in response.json()["visits"]] == [True, True]
    reviewed = (await client.get("/api/events", params={"reviewed": "true"})).json()["items"]
    assert sorted(event["id"] for event in reviewed) == [first.id, second.id]
    assert (await client.get("/api/incidents", params={"reviewed": "false"})).json()["items"] == []
    assert later.incident_id is None


async def test_unknown_incidents_and_bad_bodies_are_refused(client, db_sessions, settings):
    await seed(db_sessions, settings)
    assert (await client.get("/api/incidents/999999")).status_code == 404
    assert (await client.patch("/api/incidents/999999", json={"reviewed": True})).status_code == 404
    first = (await client.get("/api/incidents")).json()["items"][0]["id"]
    bad = await client.patch(f"/api/incidents/{first}", json={"reviewed": True, "risk_score": 0})
    assert bad.status_code == 400
