"""End to end: a real `homesec up` with MQTT_URL and NOTIFY_URLS set turns a person at night into
one push and a Home Assistant device whose sensors change.

The edges of the world are doubles as in the other e2e tests: the scripted detector (a red
marker is a person at 0.95, the fast path) and the rules engine. "Night" is made with the house's
zone: HOMESEC_TIMEZONE is chosen so that it is about 01:00 there now, where the rules engine adds
its night points (a person at a porch at night scores high; by day the same image is medium and
alerts nobody). The push goes through Apprise's real code to ``json://`` on a receiver the test
runs; Home Assistant is a real MQTT client on a mosquitto the test starts.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from pathlib import Path

import pytest

from homesec.policy.home_assistant import node_prefix
from tests.support.alerts import retained
from tests.support.homesec_process import start_up, stop_up, up_env
from tests.support.images import RED, jpeg_bytes
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.slow]


def zone_where_it_is_night() -> str:
    """An Etc/GMT zone where the local hour is 1 now (Etc/GMT-3 is UTC+3)."""
    offset = ((1 - dt.datetime.now(dt.UTC).hour + 12) % 24) - 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


def test_a_person_at_night_becomes_one_push_and_home_assistant_sensors(
    service_data_dir: Path, fresh_database_url, redis_url, mqtt_broker, subscriber, receiver
):
    camera = f"front_porch_{secrets.token_hex(2)}"
    prefix = f"hs{secrets.token_hex(2)}"
    data = service_data_dir / "data"
    folder = data / "cameras" / camera
    folder.mkdir(parents=True)
    env = up_env(
        data,
        fresh_database_url,
        redis_url,
        UPLOAD_SETTLE_SECONDS="0.5",
        FTP_ENABLED="false",
        HOMESEC_TIMEZONE=zone_where_it_is_night(),
        MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}",
        MQTT_TOPIC_PREFIX=prefix,
        NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/push",
        HOMESEC_PUBLIC_URL="https://homesec.example",
    )
    process, output = start_up(env)
    try:
        # The Notifier is up: Home Assistant sees homesec available.
        eventually_blocking(
            lambda: b"online" in subscriber.on(f"{prefix}/available"), 90, "availability", 0.5
        )
        image = jpeg_bytes(RED, seed=41)
        (folder / "snap_0001.jpg").write_bytes(image)
        uploaded = time.monotonic()

        pushes = eventually_blocking(
            lambda: receiver.json_bodies("/push"), 90, "the push", interval=0.1
        )
        first_push = time.monotonic() - uploaded
        alert = pushes[0]
        assert alert["title"].startswith("Person at ") and "(high" in alert["title"], alert
        assert "https://homesec.example/events/" in alert["message"]
        assert alert["attachments"], "the best thumbnail rides along"

        # Home Assistant: the camera's device, its person sensor ON, its risk, its snapshot.
        config = eventually_blocking(lambda: retained(mqtt_broker,
                          f"homeassistant/binary_sensor/{node_prefix(prefix)}_{camera}/person/config"),
                          30, "the discovery config")  # fmt: skip
        assert json.loads(config)["state_topic"] == f"{prefix}/{camera}/person"
        eventually_blocking(
            lambda: b"ON" in subscriber.on(f"{prefix}/{camera}/person"), 30, "person ON"
        )
        risk = eventually_blocking(
            lambda: subscriber.on(f"{prefix}/{camera}/risk"), 30, "the risk sensor"
        )
        assert int(risk[0]) >= 60
        snapshot = eventually_blocking(
            lambda: subscriber.on(f"{prefix}/{camera}/snapshot"), 30, "snapshot"
        )
        assert snapshot[-1] == image  # the frame as the camera uploaded it
        (mqtt_alert,) = eventually_blocking(
            lambda: subscriber.json_on(f"{prefix}/alerts")[:1], 30, "alert"
        )
        assert mqtt_alert["camera_id"] == camera and mqtt_alert["update"] is False

        # The batch of the same visit is scored: at most a follow-up titled as an update, never a
        # second alarm.
        time.sleep(8)
        titles = [push["title"] for push in receiver.json_bodies("/push")]
        assert titles[0] == alert["title"]
        assert all(title.startswith("Update: ") for title in titles[1:]), titles
        assert len(titles) <= 2
        print(f"upload to first push: {first_push:.2f} s")

        rest = stop_up(process)
    finally:
        if process.poll() is None:
            stop_up(process)
    assert process.returncode == 0, output + rest
    # A clean stop says goodbye; Home Assistant shows the entities unavailable.
    assert retained(mqtt_broker, f"{prefix}/available") == b"offline"
