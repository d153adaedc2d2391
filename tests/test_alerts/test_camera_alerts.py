"""Cameras that go blind (issue 23), through the real pieces: frames arrive in a camera's folder
and a CameraWatcher ingests them (real PostgreSQL and Redis), the Notifier decides the camera
alert through the rules and delivers it to a webhook receiver of the test's own, and the API
says the camera's problem and the alert's source. Watcher and Notifier run as plain objects in
the test's loop (their Ray shells are the same classes)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import secrets
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlalchemy import select

from homesec.actors.camera_watcher import CameraWatcher
from homesec.actors.janitor import Janitor
from homesec.actors.notifier import Notifier
from homesec.contract import keys
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.engines.notify import build_channels
from homesec.http.app import create_app
from homesec.models import Camera, CameraProblem, Upload
from homesec.store import alert_rules, alerts, camera_problems
from homesec.workflows import camera_tamper as camera_tamper_workflow
from tests.support.alerts import alert_settings, retained
from tests.support.waiting import eventually, eventually_blocking
from tests.support.watcher import write

TIMEOUT = 10.0  # as the watcher's own tests wait

WIDTH, HEIGHT = 640, 480


def scene_jpeg(seed: int) -> bytes:
    """The camera's usual garden (the same rectangles), with fresh sensor noise each time."""
    rng = np.random.default_rng(7)
    pixels = np.full((HEIGHT, WIDTH), 110.0)
    for _ in range(40):
        x, y = rng.integers(0, WIDTH - 60), rng.integers(0, HEIGHT - 60)
        pixels[y : y + rng.integers(20, 160), x : x + rng.integers(20, 160)] = rng.integers(20, 235)
    pixels += np.random.default_rng(seed).normal(0, 4, pixels.shape)
    return _jpeg(pixels)


def black_jpeg() -> bytes:
    return _jpeg(np.zeros((HEIGHT, WIDTH)))


def _jpeg(pixels: np.ndarray) -> bytes:
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def camera_id() -> str:
    return f"cam-{secrets.token_hex(3)}"


@pytest.fixture
def settings(tmp_path: Path, receiver):
    return alert_settings(
        tmp_path,
        FOSCAM_BASE_PATH=str(tmp_path / "cameras"),
        UPLOAD_SETTLE_SECONDS="0.3",
        MIN_IMAGE_BYTES="100",
        WEBHOOK_URLS=f"http://127.0.0.1:{receiver.port}/hook",
        NOTIFY_TIMEOUT_SECONDS="10",
    )


@pytest.fixture
async def watcher(settings, camera_id, migrated_database_url, redis_url, db_sessions):
    folder = settings.foscam_base_path / camera_id
    folder.mkdir(parents=True)
    actor = CameraWatcher(
        f"watcher:{camera_id}", settings, migrated_database_url, redis_url, camera_id, str(folder)
    )
    task = asyncio.create_task(actor.run())
    await eventually(lambda: actor.health_detail()["observer_alive"] == "true", TIMEOUT)
    yield actor
    await actor.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def notifier(settings, migrated_database_url, redis_url, db_sessions):
    actor = Notifier("notifier", settings, migrated_database_url, redis_url)
    actor.channels = build_channels(settings, client_id="unused")
    yield actor
    await actor.close()


@pytest.fixture
async def live(redis_client):
    """A subscriber to the live channel, subscribed before the test acts."""
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(keys.SECURITY_EVENTS)
    confirmation = await pubsub.get_message(timeout=5)
    assert confirmation and confirmation["type"] == "subscribe"
    yield pubsub
    await pubsub.aclose()


async def problem_news(pubsub, camera_id: str, quiet: float = 0.5) -> list[tuple[str, str]]:
    """The live camera_problem messages about ``camera_id`` so far: (problem, state), in
    order. The channel is the whole Redis server's: other tests' messages pass by too."""
    news = []
    while message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=quiet):
        decoded = json.loads(message["data"])
        data = decoded.get("data") or {}
        if decoded.get("type") == "camera_problem" and data.get("camera_id") == camera_id:
            news.append((data["problem"], data["state"]))
    return news


async def problems_of(sessions, camera_id: str) -> list[CameraProblem]:
    async with sessions() as session:
        rows = await session.scalars(
            select(CameraProblem)
            .where(CameraProblem.camera_id == camera_id)
            .order_by(CameraProblem.id)
        )
        return list(rows.all())


async def upload(watcher: CameraWatcher, name: str, data: bytes) -> None:
    """Write a frame into the camera's folder and wait until the watcher took it in."""
    before = watcher.counters["accepted"] + watcher.counters["duplicates"]
    write(Path(watcher.folder_path) / name, data)
    await eventually(
        lambda: watcher.counters["accepted"] + watcher.counters["duplicates"] > before, TIMEOUT
    )


async def test_a_black_frame_raises_a_camera_alert_and_normal_frames_clear_it(
    watcher,
    live,
    notifier,
    receiver,
    settings,
    camera_id,
    db_sessions,
    migrated_database_url,
    redis_url,
):
    # The default rule of a fresh install: high and above.
    await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))
    for index in range(6):
        await upload(watcher, f"normal-{index}.jpg", scene_jpeg(index))
    assert await problems_of(db_sessions, camera_id) == []

    await upload(watcher, "black.jpg", black_jpeg())
    [problem] = await problems_of(db_sessions, camera_id)
    assert problem.problem == "lens covered" and problem.cleared_at is None
    assert problem.image_path == str(Path(watcher.folder_path) / "black.jpg")

    await notifier.cycle()  # decides the camera problem, delivers it
    [row] = await alerts.recent(db_sessions, 10)
    assert (row.kind, row.status, row.event_id) == ("camera", AlertStatus.SENT, None)
    assert row.camera_problem_id == problem.id and row.camera_id == camera_id
    [hook] = receiver.json_bodies("/hook")
    assert hook["kind"] == "camera"
    assert hook["title"] == f"Camera {camera_id}: lens covered"
    assert hook["event"]["camera_id"] == camera_id and hook["event"]["id"] is None
    # A second cycle sends nothing again.
    await notifier.cycle()
    assert len(receiver.json_bodies("/hook")) == 1

    app = create_app(
        settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        events_channel="security_events:test:camera-alerts",
    )
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        camera = (await client.get(f"/api/cameras/{camera_id}")).json()
        assert camera["problems"] == ["lens covered"]
        [item] = (await client.get("/api/alerts")).json()["items"]
        assert (item["source"], item["kind"], item["camera_id"]) == ("camera", "camera", camera_id)
        # The Alerts page: one line, marked camera, saying what is wrong.
        page = await client.get("/alerts")
        assert page.status_code == 200
        assert page.text.count('<li class="alert ') == 1
        assert '<span class="chip camera-problem">camera</span>' in page.text
        assert '<p class="summary camera-problem">lens covered: brightness 0' in page.text
        cameras_page = (await client.get("/cameras")).text
        assert '<span class="badge status-error camera-problem">lens covered</span>' in cameras_page

        # More black frames (identical: duplicates) keep the one problem; a normal frame clears.
        await upload(watcher, "black-again.jpg", black_jpeg())
        assert len(await problems_of(db_sessions, camera_id)) == 1
        await upload(watcher, "normal-back.jpg", scene_jpeg(100))
        [cleared] = await problems_of(db_sessions, camera_id)
        assert cleared.cleared_at is not None
        camera = (await client.get(f"/api/cameras/{camera_id}")).json()
        assert camera["problems"] == []
        assert "camera-problem" not in (await client.get("/cameras")).text
    await notifier.cycle()
    assert len(receiver.json_bodies("/hook")) == 1  # clearing alerts nobody
    # Live clients (the Cameras page) heard it open and clear.
    assert await problem_news(live, camera_id) == [
        ("lens covered", "opened"),
        ("lens covered", "cleared"),
    ]


async def test_a_rule_about_objects_or_critical_only_sends_no_camera_alert(
    watcher, notifier, receiver, camera_id, db_sessions
):
    await alert_rules.create_rule(db_sessions, AlertRule(name="people", object_types=("person",)))
    await alert_rules.create_rule(
        db_sessions, AlertRule(name="critical", min_risk_level="critical")
    )
    await upload(watcher, "black.jpg", black_jpeg())
    [problem] = await problems_of(db_sessions, camera_id)
    await notifier.cycle()
    assert await alerts.recent(db_sessions, 10) == []
    assert receiver.json_bodies("/hook") == []
    async with db_sessions() as session:
        assert (await session.get(CameraProblem, problem.id)).decided is True


# --- offline ---------------------------------------------------------------------------------
async def add_history(sessions, camera_id: str, times: list[dt.datetime]) -> None:
    """A camera and its uploads as the watcher records them (the ledger's ``received_at``)."""
    async with sessions.begin() as session:
        session.add(
            Camera(
                id=camera_id,
                name=camera_id.title(),
                folder_path=f"/c/{camera_id}",
                last_seen_at=max(times),
            )
        )
        await session.flush()
        session.add_all(
            Upload(
                camera_id=camera_id,
                file_path=f"/c/{camera_id}/{index}.jpg",
                status="done",
                received_at=at,
            )
            for index, at in enumerate(times)
        )


async def test_a_regular_camera_falling_silent_raises_an_offline_alert_a_motion_camera_never(
    notifier, receiver, settings, tmp_path, db_sessions, migrated_database_url, redis_url, live
):
    now = dt.datetime.now(dt.UTC)
    # "gate" uploaded every 5 minutes for a day, then nothing for two hours.
    silent_since = now - dt.timedelta(hours=2)
    gate = [silent_since - dt.timedelta(minutes=5 * i) for i in range(288)]
    await add_history(db_sessions, "gate", gate)
    # "porch" uploads bursts on motion; its last burst was three hours ago.
    burst_at = [now - dt.timedelta(hours=3 + 2.5 * i) for i in range(40)]
    porch = [at - dt.timedelta(seconds=s) for at in burst_at for s in range(4)]
    await add_history(db_sessions, "porch", porch)
    await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))

    janitor = Janitor(
        "janitor",
        settings,
        migrated_database_url,
        redis_url,
        str(tmp_path / "ray"),
        clock=lambda: now,
    )
    try:
        await janitor.check_cameras_offline()
        await janitor.check_cameras_offline()  # a second look opens nothing twice
    finally:
        await janitor.close()
    [problem] = await problems_of(db_sessions, "gate")
    assert problem.problem == "offline" and "silent for 120 min" in problem.detail
    assert await problems_of(db_sessions, "porch") == []

    await notifier.cycle()
    [hook] = receiver.json_bodies("/hook")
    assert hook["kind"] == "camera" and hook["title"] == "Camera Gate: offline"

    # The owner sets porch's threshold through the API: two hours of silence is offline.
    app = create_app(
        settings,
        database_url=migrated_database_url,
        redis_url=redis_url,
        events_channel="security_events:test:camera-alerts",
    )
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        changed = await client.patch("/api/cameras/porch", json={"offline_after_minutes": 120})
        assert changed.status_code == 200, changed.text
        assert changed.json()["offline_after_minutes"] == 120
        refused = await client.patch("/api/cameras/porch", json={"offline_after_minutes": 0})
        assert refused.status_code == 400
        janitor = Janitor(
            "janitor",
            settings,
            migrated_database_url,
            redis_url,
            str(tmp_path / "ray"),
            clock=lambda: now,
        )
        try:
            await janitor.check_cameras_offline()
        finally:
            await janitor.close()
        cameras = {c["id"]: c for c in (await client.get("/api/cameras")).json()["items"]}
        assert cameras["porch"]["problems"] == ["offline"]
        assert cameras["gate"]["problems"] == ["offline"]

    # gate uploads again: the next check clears it.
    async with db_sessions.begin() as session:
        session.add(
            Upload(camera_id="gate", file_path="/c/gate/back.jpg", status="done", received_at=now)
        )
    later = now + dt.timedelta(seconds=1)
    janitor = Janitor(
        "janitor",
        settings,
        migrated_database_url,
        redis_url,
        str(tmp_path / "ray"),
        clock=lambda: later,
    )
    try:
        await janitor.check_cameras_offline()
    finally:
        await janitor.close()
    [cleared] = await problems_of(db_sessions, "gate")
    assert cleared.cleared_at is not None
    assert await problem_news(live, "gate") == [("offline", "opened"), ("offline", "cleared")]


# --- MQTT: the problem binary sensor ------------------------------------------------------------
async def test_the_problem_sensor_goes_on_and_off_in_home_assistant(
    tmp_path, mqtt_broker, subscriber, db_sessions, migrated_database_url, redis_url
):
    settings = alert_settings(
        tmp_path, MQTT_URL=f"mqtt://127.0.0.1:{mqtt_broker}", MQTT_TOPIC_PREFIX="hs"
    )
    actor = Notifier("notifier", settings, migrated_database_url, redis_url)
    actor.channels = build_channels(settings, client_id=f"test-problem-{mqtt_broker}")
    await asyncio.to_thread(
        eventually_blocking, actor.mqtt.connected.is_set, 15, "the MQTT connection"
    )
    try:
        await alert_rules.create_rule(db_sessions, AlertRule(name="high", min_risk_level="high"))
        async with db_sessions.begin() as session:
            session.add(Camera(id="gate", name="Gate", folder_path="/c/gate"))
            await session.flush()
            opened = await camera_problems.open_problem(
                session, "gate", "lens covered", dt.datetime.now(dt.UTC)
            )
        assert opened is not None
        await actor.cycle()

        config_topic = "homeassistant/binary_sensor/hs_gate/problem/config"
        config = json.loads(retained(mqtt_broker, config_topic))
        assert config["device_class"] == "problem"
        assert config["state_topic"] == "hs/gate/problem"
        assert config["json_attributes_topic"] == "hs/gate/problem/attributes"
        assert config["device"]["identifiers"] == ["hs_gate"]
        assert retained(mqtt_broker, "hs/gate/problem") == b"ON"
        assert json.loads(retained(mqtt_broker, "hs/gate/problem/attributes")) == {
            "problems": ["lens covered"]
        }
        # The camera alert went to MQTT too, as kind camera.
        [alert] = await asyncio.to_thread(
            eventually_blocking, lambda: subscriber.json_on("hs/alerts"), 5, "the camera alert"
        )
        assert alert["kind"] == "camera" and alert["title"] == "Camera Gate: lens covered"

        async with db_sessions.begin() as session:
            await camera_problems.clear_problem(
                session, "gate", "lens covered", dt.datetime.now(dt.UTC)
            )
        await actor.cycle()
        await asyncio.to_thread(
            eventually_blocking, lambda: subscriber.on("hs/gate/problem")[-1:] == [b"OFF"], 5, "OFF"
        )
        assert retained(mqtt_broker, "hs/gate/problem") == b"OFF"
    finally:
        await actor.close()


async def test_a_failing_tamper_check_never_holds_an_upload_up(
    watcher, camera_id, db_sessions, redis_client, monkeypatch
):
    async def broken(*args, **kwargs):
        raise RuntimeError("the tamper check broke")

    monkeypatch.setattr(camera_tamper_workflow, "observe", broken)
    await upload(watcher, "black.jpg", black_jpeg())
    assert watcher.counters["accepted"] == 1
    assert await redis_client.xlen(keys.DETECTION_QUEUE) == 1  # queued for the detector
    assert await problems_of(db_sessions, camera_id) == []
