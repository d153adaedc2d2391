"""End to end: a real `homesec up` by day, where Home Assistant switches the house to away over
MQTT and the next daytime visit scores higher, says why, and is pushed, while the same visit at
home was not.

Doubles at the edges as in test_alerts_up.py: the scripted detector (a red marker is a person at
0.95) and the rules engine; "day" is made with the house's zone (HOMESEC_TIMEZONE chosen so
that it is about 14:00 there now). Home Assistant is a real MQTT client on a mosquitto the test
starts; the push goes through Apprise to ``json://`` on the test's receiver.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.request
from pathlib import Path

import pytest

from homesec.policy.home_assistant import node_prefix
from tests.support.alerts import retained
from tests.support.homesec_process import start_up, stop_up, up_env
from tests.support.images import RED, jpeg_bytes
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.slow]


def zone_where_it_is(hour: int) -> str:
    """An Etc/GMT zone where the local hour is ``hour`` now (Etc/GMT-3 is UTC+3)."""
    offset = ((hour - dt.datetime.now(dt.UTC).hour + 12) % 24) - 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_switching_to_away_over_mqtt_raises_a_daytime_visit_and_pushes_it(
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
        HOMESEC_TIMEZONE=zone_where_it_is(14),
        FAST_PATH_COOLDOWN_SECONDS="0",
        MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}",
        MQTT_TOPIC_PREFIX=prefix,
        NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/push",
    )
    api = f"http://127.0.0.1:{env['HOMESEC_PORT']}/api"

    def final_events() -> list[dict]:
        events = get_json(f"{api}/events?camera_id={camera}")["items"]
        return [event for event in events if not event["is_fast_path"]]

    process, output = start_up(env)
    try:
        eventually_blocking(
            lambda: b"online" in subscriber.on(f"{prefix}/available"),
            90,
            "availability",
            interval=0.5,
        )
        select = eventually_blocking(
            lambda: retained(
                mqtt_broker, f"homeassistant/select/{node_prefix(prefix)}_house/mode/config"
            ),
            30,
            "the select's discovery config",
        )
        assert json.loads(select)["command_topic"] == f"{prefix}/house_mode/set"
        eventually_blocking(
            lambda: retained(mqtt_broker, f"{prefix}/house_mode") == b"home", 30, "home"
        )

        # At home, a person at the porch by day: medium, nobody is pushed.
        (folder / "snap_0001.jpg").write_bytes(jpeg_bytes(RED, seed=51))
        (at_home,) = eventually_blocking(final_events, 90, "the visit at home", interval=0.2)
        assert at_home["risk_level"] == "medium", at_home
        assert "away" not in at_home["reasoning"]

        # Home Assistant's select: away. The mode is logged as set over MQTT.
        subscriber.client.publish(f"{prefix}/house_mode/set", "away", qos=1)
        eventually_blocking(
            lambda: retained(mqtt_broker, f"{prefix}/house_mode") == b"away", 30, "away"
        )
        mode = get_json(f"{api}/mode")
        assert (mode["mode"], mode["changed_by"]) == ("away", "mqtt")

        # The same visit while away: higher, saying why, and pushed.
        (folder / "snap_0002.jpg").write_bytes(jpeg_bytes(RED, seed=52))
        pushes = eventually_blocking(
            lambda: receiver.json_bodies("/push"), 90, "the push", interval=0.1
        )
        assert "(high" in pushes[0]["title"], pushes[0]
        later = eventually_blocking(
            lambda: [e for e in final_events() if e["id"] != at_home["id"]],
            90,
            "the visit while away",
            interval=0.2,
        )
        away = later[0]
        assert away["risk_score"] > at_home["risk_score"]
        assert "the house is set to away" in away["reasoning"], away["reasoning"]

        rest = stop_up(process)
    finally:
        if process.poll() is None:
            stop_up(process)
    assert process.returncode == 0, output + rest
