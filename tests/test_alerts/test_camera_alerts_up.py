"""End to end: a real `homesec up` turns a black frame into a camera alert (issue 23's "a black
frame raises a camera alert"): a webhook of the test's own receives it as kind ``camera``, and
Home Assistant (a real MQTT client on a mosquitto the test starts) sees the camera's problem
sensor go ON. A fresh install's default rule (high and above) sends it."""

from __future__ import annotations

import io
import json
import secrets
from pathlib import Path

import pytest
from PIL import Image

from homesec.policy.home_assistant import node_prefix
from tests.support.alerts import retained
from tests.support.homesec_process import start_up, stop_up, up_env
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.slow]


def black_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (0, 0, 0)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_a_black_frame_raises_a_camera_alert_through_homesec_up(
    service_data_dir: Path, fresh_database_url, redis_url, mqtt_broker, subscriber, receiver
):
    camera = f"garden_{secrets.token_hex(2)}"
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
        MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}",
        MQTT_TOPIC_PREFIX=prefix,
        WEBHOOK_URLS=f"http://127.0.0.1:{receiver.port}/hook",
    )
    process, output = start_up(env)
    try:
        eventually_blocking(
            lambda: b"online" in subscriber.on(f"{prefix}/available"),
            90,
            "availability",
            interval=0.5,
        )
        (folder / "snap_0001.jpg").write_bytes(black_jpeg())

        hooks = eventually_blocking(
            lambda: receiver.json_bodies("/hook"), 90, "the webhook", interval=0.1
        )
        assert hooks[0]["kind"] == "camera", hooks
        assert hooks[0]["title"].endswith(": lens covered")
        assert hooks[0]["event"]["camera_id"] == camera

        node = node_prefix(prefix)
        config = eventually_blocking(
            lambda: retained(
                mqtt_broker, f"homeassistant/binary_sensor/{node}_{camera}/problem/config"
            ),
            30,
            "the problem sensor's config",
        )
        assert json.loads(config)["device_class"] == "problem"
        eventually_blocking(
            lambda: b"ON" in subscriber.on(f"{prefix}/{camera}/problem"), 30, "problem ON"
        )

        rest = stop_up(process)
    finally:
        if process.poll() is None:
            stop_up(process)
    assert process.returncode == 0, output + rest
