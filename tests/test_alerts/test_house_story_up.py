"""End to end through a real `homesec up` (issue 23's "done when"): a parked car fed every few
seconds makes one visit, and a person on two cameras within the window makes one incident and
one alert, whose update tells the story.

Doubles at the edges as in test_mode_up.py: the scripted detector (a blue marker is a car, a
red one a person at 0.95, each the centre half of the frame: a parked car's box never moves)
and the rules engine; the push goes through Apprise to ``json://`` on the test's receiver.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.homesec_process import start_up, stop_up, up_env
from tests.support.images import BLUE, RED, jpeg_bytes
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.slow]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_a_parked_car_fed_every_few_seconds_makes_one_visit(
    service_data_dir: Path, fresh_database_url, redis_url
):
    camera = f"drive_{secrets.token_hex(2)}"
    data = service_data_dir / "data"
    folder = data / "cameras" / camera
    folder.mkdir(parents=True)
    env = up_env(
        data, fresh_database_url, redis_url, UPLOAD_SETTLE_SECONDS="0.3", FTP_ENABLED="false",
        # A visit closes 20 s after it opened, or 5 s after its last moving detection; the car
        # has settled once its spot was seen 8 s before. Fed for 40 s without settling, the car
        # would make two visits at least.
        BATCH_WINDOW_SECONDS="20", BATCH_IDLE_TIMEOUT_SECONDS="5",
        STATIONARY_SETTLE_SECONDS="8",
    )  # fmt: skip
    api = f"http://127.0.0.1:{env['HOMESEC_PORT']}/api"

    def visits() -> list[dict]:
        events = get_json(f"{api}/events?camera_id={camera}")["items"]
        return [event for event in events if not event["is_fast_path"]]

    process, output = start_up(env)
    try:
        for number in range(20):  # 40 s of a car that does not move
            (folder / f"snap_{number:04d}.jpg").write_bytes(jpeg_bytes(BLUE, seed=100 + number))
            time.sleep(2)
        eventually_blocking(visits, 60, "the car's arrival", interval=0.5)
        time.sleep(8)  # long past the idle timeout: a second visit would be there by now
        assert len(visits()) == 1, visits()
        detections = get_json(f"{api}/detections?camera_id={camera}&limit=100")["items"]
        assert len(detections) == 20
        parked = [d for d in detections if d["stationary"]]
        assert len(parked) >= 10, [d["stationary"] for d in detections]

        # Someone walks past the parked car: a visit of their own.
        (folder / "snap_0100.jpg").write_bytes(jpeg_bytes(RED, seed=300))
        eventually_blocking(lambda: len(visits()) == 2, 60, "the passer-by's visit")
        rest = stop_up(process)
    finally:
        if process.poll() is None:
            stop_up(process)
    assert process.returncode == 0, output + rest


def test_a_person_on_two_cameras_makes_one_incident_and_one_alert(
    service_data_dir: Path, fresh_database_url, redis_url, receiver
):
    driveway, back_door = (f"{name}_{secrets.token_hex(2)}" for name in ("driveway", "back_door"))
    data = service_data_dir / "data"
    for camera in (driveway, back_door):
        (data / "cameras" / camera).mkdir(parents=True)
    env = up_env(
        data, fresh_database_url, redis_url, UPLOAD_SETTLE_SECONDS="0.3", FTP_ENABLED="false",
        NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/push",
    )  # fmt: skip
    api = f"http://127.0.0.1:{env['HOMESEC_PORT']}/api"
    process, output = start_up(env)
    try:
        (data / "cameras" / driveway / "snap_0001.jpg").write_bytes(jpeg_bytes(RED, seed=11))
        eventually_blocking(lambda: receiver.json_bodies("/push"), 90, "the first push")
        time.sleep(15)  # the person walks round the house
        (data / "cameras" / back_door / "snap_0001.jpg").write_bytes(jpeg_bytes(RED, seed=12))
        incidents = eventually_blocking(
            lambda: [i for i in get_json(f"{api}/incidents")["items"] if i["visit_count"] >= 2],
            90,
            "the incident",
            interval=0.5,
        )
        (incident,) = incidents
        assert {c["camera_id"] for c in incident["cameras"]} == {driveway, back_door}
        time.sleep(8)  # both cameras' final verdicts are in, and decided
        eventually_blocking(
            lambda: all(e["incident_id"] == incident["id"] for e in finals(api)),
            60,
            "every visit in the incident",
        )
        pushes = receiver.json_bodies("/push")
        titles = [push["title"] for push in pushes]
        # One alert; the story's update (the back door is a camera it had not reached).
        assert len([t for t in titles if not t.startswith("Update: ")]) == 1, titles
        assert titles[-1].startswith("Update: "), titles
        assert "then at" in pushes[-1]["message"], pushes[-1]
        rest = stop_up(process)
    finally:
        if process.poll() is None:
            stop_up(process)
    assert process.returncode == 0, output + rest


def finals(api: str) -> list[dict]:
    events = get_json(f"{api}/events")["items"]
    return [event for event in events if not event["is_fast_path"]]
