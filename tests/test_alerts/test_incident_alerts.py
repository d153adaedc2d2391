"""One incident, one alert (issue 23): a person on two cameras within the window makes one
incident and one alert, updated as the incident grows, through the Notifier's real channels (an
Apprise ``json://`` push and a webhook to an HTTP receiver of the test's own, MQTT to a
mosquitto of its own). The visits are written by the Analyst's store functions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from homesec.actors.notifier import Notifier
from homesec.contract.alerts import AlertKind, AlertRule, AlertStatus
from homesec.engines.notify import build_channels
from homesec.store import alert_rules, alerts
from homesec.store.analysis import IncidentRules
from tests.support.alerts import alert_settings, retained
from tests.support.incidents import write_visit
from tests.support.waiting import eventually

RULES = IncidentRules(window_seconds=120, zone=dt.UTC)


@pytest.fixture
async def notifier(tmp_path, mqtt_broker, receiver, migrated_database_url, redis_url, db_sessions):
    settings = alert_settings(
        tmp_path,
        NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/apprise",
        WEBHOOK_URLS=f"http://127.0.0.1:{receiver.port}/hook",
        MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}",
        MQTT_TOPIC_PREFIX="hs",
        HOMESEC_PUBLIC_URL="https://cam.example",
        HOMESEC_TIMEZONE="UTC",
        NOTIFY_TIMEOUT_SECONDS="10",
    )
    actor = Notifier("notifier", settings, migrated_database_url, redis_url, retry_base_seconds=0.2)
    actor.channels = build_channels(settings, client_id=f"test-incidents-{mqtt_broker}")
    await eventually(actor.mqtt.connected.is_set, 15, "the MQTT connection")
    yield actor
    await actor.close()


async def test_a_person_on_two_cameras_within_the_window_makes_one_incident_and_one_alert(
    notifier, rows, db_sessions, receiver, mqtt_broker, tmp_path
):
    await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))
    await rows.camera("driveway", "Driveway")
    await rows.camera("back_door", "Back Door")
    await rows.camera("garage", "Garage")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=20)
    shots = tmp_path / "thumbs"

    first = await write_visit(
        db_sessions, "driveway", start, score=70, rules=RULES, thumbnail_dir=shots
    )
    await notifier.cycle()
    (push,) = receiver.json_bodies("/apprise")
    assert push["title"] == "Person at Driveway (high 70)"
    (hook,) = receiver.json_bodies("/hook")
    assert hook["update"] is False and hook["incident"] is None

    # 60 s later the back door: the same incident, and the driveway's alert is updated.
    second = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=60), score=80, rules=RULES,
        thumbnail_dir=shots,
    )  # fmt: skip
    assert second.incident_id is not None
    await notifier.cycle()
    story = f"A person at Driveway at {start:%H:%M}, then at Back Door at {start + dt.timedelta(seconds=60):%H:%M}."  # noqa: E501
    hooks = receiver.json_bodies("/hook")
    assert [(h["alert_id"], h["update"]) for h in hooks] == [
        (hook["alert_id"], False),
        (hook["alert_id"], True),
    ]
    assert hooks[1]["incident"] == {"id": second.incident_id, "story": story}
    assert hooks[1]["link"] == f"https://cam.example/incidents/{second.incident_id}"
    assert hooks[1]["event"]["id"] == second.id
    pushes = receiver.json_bodies("/apprise")
    # A new camera is news: the phone hears of it, as an update of the same alert.
    assert [p["title"] for p in pushes] == [
        "Person at Driveway (high 70)",
        "Update: Person at Back Door (high 80)",
    ]
    assert story in pushes[1]["message"]
    updated = json.loads(retained(mqtt_broker, "hs/back_door/alert"))
    assert updated["incident_id"] == second.incident_id and updated["story"] == story

    sent = await alerts.recent(db_sessions, 20)
    assert sorted(a.kind for a in sent) == ["alert"] * 3 + ["update"] * 3
    assert {a.event_id for a in sent if a.kind == AlertKind.ALERT} == {first.id}

    # The same back door again 30 s later: still the incident, no new camera, same band: the
    # phone stays quiet (recorded as suppressed_unchanged), the webhook hears it.
    third = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=90), score=80, rules=RULES
    )
    assert third.incident_id == second.incident_id
    await notifier.cycle()
    assert len(receiver.json_bodies("/apprise")) == 2
    assert len(receiver.json_bodies("/hook")) == 3
    quiet = [a for a in await alerts.recent(db_sessions, 20) if a.event_id == third.id]
    assert {a.status for a in quiet if a.channel.startswith("apprise")} == {
        AlertStatus.SUPPRESSED_UNCHANGED
    }

    # Ten minutes later the garage: a visit of its own, a new alert.
    alone = await write_visit(
        db_sessions, "garage", start + dt.timedelta(minutes=10), score=75, rules=RULES
    )
    assert alone.incident_id is None
    await notifier.cycle()
    pushes = receiver.json_bodies("/apprise")
    assert pushes[-1]["title"] == "Person at Garage (high 75)"
    assert len({h["alert_id"] for h in receiver.json_bodies("/hook")}) == 2


async def test_the_phone_is_not_told_again_what_an_incidents_update_told_it(
    notifier, rows, db_sessions, receiver
):
    """The back door's visit made the incident critical and the phone heard it; the back door's
    next verdict, as critical, is no news next to that update (not next to the driveway's first
    alert, which said high)."""
    await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))
    await rows.camera("driveway", "Driveway")
    await rows.camera("back_door", "Back Door")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=20)
    await write_visit(db_sessions, "driveway", start, score=65, rules=RULES)
    await notifier.cycle()
    await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=40), score=90, rules=RULES
    )
    await notifier.cycle()
    again = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=70), score=90, rules=RULES
    )
    await notifier.cycle()
    assert [p["title"] for p in receiver.json_bodies("/apprise")] == [
        "Person at Driveway (high 65)",
        "Update: Person at Back Door (critical 90)",
    ]
    quiet = [a for a in await alerts.recent(db_sessions, 20) if a.event_id == again.id]
    assert {a.status for a in quiet if a.channel.startswith("apprise")} == {
        AlertStatus.SUPPRESSED_UNCHANGED
    }
    assert len(receiver.json_bodies("/hook")) == 3  # the webhook hears every verdict


async def test_an_incident_whose_first_visit_did_not_alert_alerts_once_it_matches(
    notifier, rows, db_sessions, receiver
):
    """A rule on the back door only: the driveway's visit alerts nobody; the back door's visit
    joins the incident and raises its alert, scored on the incident."""
    await alert_rules.create_rule(
        db_sessions, AlertRule(name="door", min_risk_score=60, camera_ids=("back_door",))
    )
    await rows.camera("driveway", "Driveway")
    await rows.camera("back_door", "Back Door")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    await write_visit(db_sessions, "driveway", start, score=85, rules=RULES)
    await notifier.cycle()
    assert receiver.json_bodies("/hook") == []
    # The back door's own score is 40; the incident's, on the whole story, is 85.
    door = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=45), score=40, rules=RULES
    )
    await notifier.cycle()
    (hook,) = receiver.json_bodies("/hook")
    assert hook["update"] is False and hook["incident"]["id"] == door.incident_id
    assert (hook["event"]["risk_level"], hook["event"]["risk_score"]) == ("critical", 85)
