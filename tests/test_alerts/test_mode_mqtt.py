"""The house's mode over MQTT with a real mosquitto: Home Assistant's select announced by
discovery, a command on its command topic sets the mode (logged as ``mqtt``), the state topic
follows every change; and the schedule's edges, logged as ``schedule``. The Notifier runs here
as a plain object (its Ray shell is the same class), as in test_channels.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from homesec.actors.notifier import Notifier
from homesec.engines.notify import build_channels
from homesec.store import house_modes
from tests.support.alerts import alert_settings, retained
from tests.support.waiting import eventually_blocking

CONFIG_TOPIC = "homeassistant/select/hs_house/mode/config"


def make_notifier(tmp_path, port, database_url, redis_url, **env) -> Notifier:
    settings = alert_settings(
        tmp_path, MQTT_URL=f"mqtt://127.0.0.1:{port}", MQTT_TOPIC_PREFIX="hs", **env
    )
    actor = Notifier("notifier", settings, database_url, redis_url)
    actor.channels = build_channels(settings, client_id=f"test-notifier-{port}")
    return actor


@pytest.fixture
async def notifier(tmp_path, mqtt_broker, migrated_database_url, redis_url, db_sessions):
    actor = make_notifier(tmp_path, mqtt_broker, migrated_database_url, redis_url)
    await asyncio.to_thread(
        eventually_blocking, actor.mqtt.connected.is_set, 15, "the MQTT connection"
    )
    yield actor
    await actor.close()


async def cycle_until(notifier: Notifier, sessions, mode: str, timeout: float = 10.0):
    """Run the Notifier's cycle until the mode in force is ``mode``; the change."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await notifier.cycle()
        change = await house_modes.current(sessions)
        if change.mode == mode:
            return change
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"the mode is {change.mode}, not {mode}, after {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def test_home_assistants_select_sets_the_mode_and_follows_it(
    notifier, db_sessions, subscriber, mqtt_broker
):
    await notifier.cycle()
    config = json.loads(retained(mqtt_broker, CONFIG_TOPIC))
    assert config["options"] == ["home", "away", "night"]
    assert config["command_topic"] == "hs/house_mode/set"
    assert config["state_topic"] == "hs/house_mode"
    assert config["unique_id"] == "hs_house_mode" and config["device"]["name"] == "homesec"
    assert retained(mqtt_broker, "hs/house_mode") == b"home"  # never set: home

    # Home Assistant's select sends the option picked.
    subscriber.client.publish("hs/house_mode/set", "away", qos=1)
    change = await cycle_until(notifier, db_sessions, "away")
    assert change.changed_by == "mqtt"
    await asyncio.to_thread(
        eventually_blocking,
        lambda: subscriber.on("hs/house_mode")[-1:] == [b"away"],
        5,
        "the state to follow",
    )
    assert retained(mqtt_broker, "hs/house_mode") == b"away"

    # A payload that names no mode is ignored; the mode stays.
    subscriber.client.publish("hs/house_mode/set", "vacation", qos=1)
    await asyncio.sleep(0.5)
    await notifier.cycle()
    assert (await house_modes.current(db_sessions)).mode == "away"
    assert [c.mode for c in await house_modes.history(db_sessions)] == ["away"]

    # Set elsewhere (the dashboard, the API): the state topic follows.
    await house_modes.set_mode(db_sessions, "night", "key phone")
    await notifier.cycle()
    assert retained(mqtt_broker, "hs/house_mode") == b"night"


async def test_the_schedule_sets_night_at_its_start_logged_as_schedule(
    tmp_path, mqtt_broker, migrated_database_url, redis_url, db_sessions
):
    now = dt.datetime.now(dt.UTC)  # alert_settings' zone is UTC
    hours = f"{now - dt.timedelta(hours=1):%H:%M}-{now + dt.timedelta(hours=1):%H:%M}"
    actor = make_notifier(
        tmp_path,
        mqtt_broker,
        migrated_database_url,
        redis_url,
        HOUSE_MODE_SCHEDULE="on",
        HOUSE_MODE_NIGHT_HOURS=hours,
    )
    try:
        await asyncio.to_thread(
            eventually_blocking, actor.mqtt.connected.is_set, 15, "the MQTT connection"
        )
        change = await cycle_until(actor, db_sessions, "night")
        assert change.changed_by == "schedule"
        assert retained(mqtt_broker, "hs/house_mode") == b"night"
        # The owner switches back to home after the edge: the schedule leaves it so.
        await house_modes.set_mode(db_sessions, "home", "key phone")
        await actor.cycle()
        assert (await house_modes.current(db_sessions)).mode == "home"
    finally:
        await actor.close()


async def test_without_the_schedule_the_mode_is_left_alone(notifier, db_sessions):
    await notifier.cycle()
    assert await house_modes.history(db_sessions) == []
