"""The Notifier's channels through their real code: Apprise (``json://``) and a signed webhook to
an HTTP receiver of the test's own, MQTT to a mosquitto of its own with a real client subscribed.
One conversation: a fast-path alert, then its update when the batch of the same visit is scored.
The Notifier runs here as a plain object (its Ray shell is the same class)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest

from homesec.actors.notifier import Notifier
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.engines.notify import build_channels
from homesec.policy.alert_rules import retry_delay
from homesec.store import alert_rules, alerts
from homesec.store.event_channel import encode_message, event_message
from homesec.store.events import StoredEvent
from tests.support.alerts import alert_settings, retained
from tests.support.waiting import eventually

SECRET = "webhook-test-secret"


@pytest.fixture
async def notifier(tmp_path, mqtt_broker, receiver, migrated_database_url, redis_url, db_sessions):
    settings = alert_settings(
        tmp_path,
        NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/apprise",
        WEBHOOK_URLS=f"http://127.0.0.1:{receiver.port}/hook",
        WEBHOOK_SECRET=SECRET,
        MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}",
        MQTT_TOPIC_PREFIX="hs",
        HOMESEC_PUBLIC_URL="https://cam.example",
        NOTIFY_TIMEOUT_SECONDS="10",
    )
    actor = Notifier("notifier", settings, migrated_database_url, redis_url, retry_base_seconds=0.2)
    actor.channels = build_channels(settings, client_id=f"test-notifier-{mqtt_broker}")
    await eventually(actor.mqtt.connected.is_set, 15, "the MQTT connection")
    yield actor
    await actor.close()


async def test_an_alert_and_its_update_on_every_channel(notifier, rows, db_sessions, receiver,
                                                        subscriber, mqtt_broker):  # fmt: skip
    await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))
    await rows.camera("porch", "Porch")
    seen = await rows.detection("porch")
    fast = await rows.event("porch", [seen], score=70, level="high", fast_path=True)

    await notifier.cycle()  # reads the cameras (discovery), decides, delivers
    sent = await alerts.recent(db_sessions, 10)
    assert sorted(a.channel.split(":")[0] for a in sent) == ["apprise", "mqtt", "webhook"]
    assert {a.status for a in sent} == {AlertStatus.SENT}

    # Apprise's own JSON, with the title, body and the thumbnail attached.
    (push,) = receiver.json_bodies("/apprise")
    assert push["title"] == "Person at Porch (high 70)"
    assert "A person at the door" in push["message"] and f"/events/{fast}" in push["message"]
    (attachment,) = push["attachments"]
    assert base64.b64decode(attachment["base64"]).startswith(b"\xff\xd8")

    # The webhook, signed.
    (hook,) = [d for d in receiver.deliveries if d["path"] == "/hook"]
    expected = "sha256=" + hmac.new(SECRET.encode(), hook["body"], hashlib.sha256).hexdigest()
    assert hook["headers"]["X-Homesec-Signature"] == expected
    first = json.loads(hook["body"])
    assert first["update"] is False and first["event"]["risk_score"] == 70
    assert first["link"] == f"https://cam.example/events/{fast}"

    # MQTT: Home Assistant discovery (retained), availability, the alert.
    config_topic = "homeassistant/binary_sensor/hs_porch/person/config"
    config = json.loads(retained(mqtt_broker, config_topic))
    assert config["state_topic"] == "hs/porch/person" and config["device"]["name"] == "Porch"
    assert retained(mqtt_broker, "hs/available") == b"online"
    (mqtt_alert,) = await eventually(lambda: subscriber.json_on("hs/alerts"), 5, "the MQTT alert")
    assert mqtt_alert["title"] == push["title"] and mqtt_alert["update"] is False

    # The event's state for Home Assistant, as the Notifier hears it on security_events.
    stored = StoredEvent(id=fast, batch_id="b", camera_id="porch", risk_score=70,
                         risk_level="high", summary="s", started_at=dt.datetime.now(dt.UTC),
                         is_fast_path=True)  # fmt: skip
    await notifier._publish_state(encode_message(event_message(stored)))
    await eventually(lambda: subscriber.on("hs/porch/snapshot"), 5, "snapshot")
    assert subscriber.on("hs/porch/person")[-1] == b"ON"
    assert subscriber.on("hs/porch/risk")[-1] == b"70"
    assert subscriber.json_on("hs/porch/event")[-1]["event_type"] == "person"
    assert subscriber.on("hs/porch/snapshot")[-1].startswith(b"\xff\xd8")

    # The batch of the same visit is scored, in a higher band: an update, not a second alarm.
    visit = [seen, await rows.detection("porch")]
    batch = await rows.event(
        "porch", visit, score=88, level="critical", fast_path=False, summary="Still at the door"
    )
    await notifier.cycle()
    pushes = receiver.json_bodies("/apprise")
    assert [p["title"] for p in pushes] == [
        "Person at Porch (high 70)",
        "Update: Person at Porch (critical 88)",
    ]
    hooks = receiver.json_bodies("/hook")
    assert [(h["alert_id"], h["update"]) for h in hooks] == [
        (first["alert_id"], False),
        (first["alert_id"], True),
    ]
    assert hooks[1]["event"]["id"] == batch
    updated = json.loads(retained(mqtt_broker, "hs/porch/alert"))  # the same retained topic
    assert updated["update"] is True and updated["summary"] == "Still at the door"
    mqtt_alerts = subscriber.json_on("hs/alerts")
    assert len({a["alert_id"] for a in mqtt_alerts}) == 1 and len(mqtt_alerts) == 2

    # Home Assistant restarts and says so: the discovery configs come again.
    before = len(subscriber.on(config_topic))
    subscriber.client.publish("homeassistant/status", "online")
    await eventually(
        lambda: len(subscriber.on(config_topic)) > before, 5, "the configs published again"
    )


async def test_an_update_that_changes_little_is_quiet_on_the_phone(notifier, rows, db_sessions,
                                                                   receiver, subscriber,
                                                                   mqtt_broker):  # fmt: skip
    """The batch agrees with the fast path (same band, 5 points more): the phone does not buzz
    again, but MQTT's retained alert and the webhook get the batch's verdict."""
    await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))
    await rows.camera("porch", "Porch")
    seen = await rows.detection("porch")
    fast = await rows.event("porch", [seen], score=70, level="high", fast_path=True)
    await notifier.cycle()
    assert [p["title"] for p in receiver.json_bodies("/apprise")] == ["Person at Porch (high 70)"]

    visit = [seen, await rows.detection("porch")]
    batch = await rows.event(
        "porch", visit, score=75, level="high", fast_path=False, summary="Still at the door"
    )
    await notifier.cycle()
    await asyncio.sleep(1)  # what a push would take, were one sent
    assert [p["title"] for p in receiver.json_bodies("/apprise")] == ["Person at Porch (high 70)"]
    hooks = receiver.json_bodies("/hook")
    assert [(h["update"], h["event"]["id"], h["event"]["risk_score"]) for h in hooks] == [
        (False, fast, 70),
        (True, batch, 75),
    ]
    assert hooks[0]["alert_id"] == hooks[1]["alert_id"]
    updated = json.loads(retained(mqtt_broker, "hs/porch/alert"))
    assert (updated["update"], updated["event_id"], updated["risk_score"]) == (True, batch, 75)
    assert updated["summary"] == "Still at the door"
    await eventually(
        lambda: len(subscriber.json_on("hs/alerts")) == 2, 5, "the update on hs/alerts"
    )

    # The record says what happened on each channel: the push was held back on purpose.
    updates = {a.channel.split(":")[0]: a for a in await alerts.recent(db_sessions, 10)
               if a.kind == "update"}  # fmt: skip
    assert {kind: a.status for kind, a in updates.items()} == {
        "apprise": AlertStatus.SUPPRESSED_UNCHANGED,
        "mqtt": AlertStatus.SENT,
        "webhook": AlertStatus.SENT,
    }
    assert updates["apprise"].attempts == 0


async def test_a_receiver_down_for_a_while_gets_every_alert_once(notifier, rows, db_sessions,
                                                                 receiver):  # fmt: skip
    rule = AlertRule(
        name="all", min_risk_level="high", cooldown_seconds=0, channels=("webhook", "apprise")
    )
    await alert_rules.create_rule(db_sessions, rule)
    await rows.camera("porch", "Porch")
    receiver.down = True
    for _ in range(3):
        await rows.event("porch", [await rows.detection("porch")], score=80, level="high",
                         fast_path=True)  # fmt: skip
    notifier.sweep_seconds = 0.2
    running = asyncio.create_task(notifier.run())
    try:
        await eventually(
            lambda: len(receiver.requests) >= 6, 30, "attempts against the down receiver"
        )
        waiting = await alerts.recent(db_sessions, 20)
        assert len(waiting) == 6 and {a.status for a in waiting} == {AlertStatus.PENDING}
        assert any(a.last_error and "503" in a.last_error for a in waiting)
        await asyncio.sleep(8)  # down for a while: several retries each, backing off
        receiver.down = False

        async def all_sent() -> bool:
            return {a.status for a in await alerts.recent(db_sessions, 20)} == {AlertStatus.SENT}

        await eventually(all_sent, 60, "every alert sent", interval=0.2)
    finally:
        await notifier.stop()
        running.cancel()
    delivered = [d["headers"].get("Idempotency-Key") for d in receiver.deliveries
                 if d["path"] == "/hook"]  # fmt: skip
    assert len(delivered) == 3 and len(set(delivered)) == 3 and receiver.repeats == []
    assert len(receiver.json_bodies("/apprise")) == 3
    attempts = [a.attempts for a in await alerts.recent(db_sessions, 20)]
    assert max(attempts) > 2  # retried, not lucky


async def test_the_mqtt_channel_reconnects_on_its_own(notifier, broker, rows, db_sessions):
    mqtt = notifier.mqtt
    await alert_rules.create_rule(db_sessions, AlertRule(name="m", min_risk_level="high",
                                                         channels=("mqtt",)))  # fmt: skip
    await rows.camera("porch", "Porch")
    broker.stop()
    await eventually(lambda: not mqtt.connected.is_set(), 15, "the drop")
    await rows.event("porch", [await rows.detection("porch")], score=70, level="high",
                     fast_path=True)  # fmt: skip
    await notifier.cycle()  # the broker is away: the alert waits, with the reason
    (waiting,) = await alerts.recent(db_sessions, 5)
    assert waiting.status == AlertStatus.PENDING and "not connected" in waiting.last_error

    broker.start()  # same port, a new broker: it knows nothing retained
    await eventually(mqtt.connected.is_set, 60, "the reconnection")
    assert mqtt.connections == 2
    assert retained(broker.port, "hs/available") == b"online"
    assert retained(broker.port, "homeassistant/sensor/hs_porch/risk/config")
    await asyncio.sleep(retry_delay(1, base=0.2))
    await notifier.cycle()
    (sent,) = await alerts.recent(db_sessions, 5)
    assert sent.status == AlertStatus.SENT
