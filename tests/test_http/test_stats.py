"""``GET /api/stats`` on PostgreSQL: two cameras, three months of sent alerts, feedback and
reviews, counted exactly; a month boundary in the house's zone; test and camera-problem alerts,
suppressed and failed alerts left out; a visit's alert and update counted once, an update that
got through after a failed alert counted; the rate withheld below the too-little rule; the
calibration's start splitting before from after."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from homesec.http.queries import stats as queries
from homesec.http.schemas.stats import StatsReport
from homesec.policy.alert_stats import MIN_RATED
from tests.support import alert_stats
from tests.support.alert_stats import EXPECTED, ZONE_NAME, month_label
from tests.support.rows import add_camera
from tests.support.settings import make_settings

COUNTS = ("alerts_sent", "with_feedback", "rated", "false_alarms", "wrong_severity")
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def house(settings):
    return msgspec.structs.replace(settings, timezone=ZONE_NAME)


@pytest.fixture
async def seeded(db_sessions, house) -> None:
    await alert_stats.seed(db_sessions, house, NOW)


def counts(tally: dict) -> dict:
    return {name: tally[name] for name in COUNTS}


async def report(client, **params) -> dict:
    response = await client.get("/api/stats", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    msgspec.convert(body, StatsReport)  # the documented shape
    return body


@pytest.fixture
async def house_client(make_app, house, seeded):
    async with AsyncTestClient(make_app(settings=house)) as test_client:
        yield test_client


async def test_counts_per_camera_and_month_are_exact(house_client) -> None:
    body = await report(house_client, months=3)
    assert body["timezone"] == ZONE_NAME
    assert body["months"] == [month_label(NOW, back) for back in (2, 1, 0)]
    assert body["min_rated"] == MIN_RATED
    cameras = {camera["camera_id"]: camera for camera in body["cameras"]}
    assert list(cameras) == ["front_door", "garage"]
    for camera, expected in EXPECTED.items():
        months = cameras[camera]["months"]
        assert [month["month"] for month in months] == body["months"]
        for back, month in zip((-2, -1, 0), months, strict=True):
            assert counts(month) == expected[back], (camera, month["month"])
        assert counts(cameras[camera]["total"]) == expected["total"]
        calibration = cameras[camera]["calibration"]
        assert counts(calibration["before"]) == expected["before"]
        assert counts(calibration["after"]) == expected["after"]
        learnt = dt.datetime.fromisoformat(calibration["learnt_at"])
        assert learnt == alert_stats.learnt_at(NOW)[camera]


async def test_rates_and_the_too_little_rule(house_client) -> None:
    body = await report(house_client, months=3)
    cameras = {camera["camera_id"]: camera for camera in body["cameras"]}
    garage = cameras["garage"]
    two_back, one_back, this = garage["months"]
    assert two_back["false_alarm_rate"] == pytest.approx(4 / 5)
    assert two_back["enough_feedback"] is True
    assert two_back["verdict"] == "4 of 5 rated alerts were false alarms (80%)"
    assert one_back["false_alarm_rate"] == pytest.approx(1 / 5)
    assert this["false_alarm_rate"] is None
    assert this["enough_feedback"] is False
    assert this["verdict"] == f"too little feedback to say (2 rated alerts, {MIN_RATED} needed)"
    assert garage["calibration"]["verdict"] == (
        "false alarms fell from 80% to 29% once the calibration had enough feedback"
    )
    front = cameras["front_door"]
    assert front["months"][0]["false_alarm_rate"] is None  # 3 rated
    assert front["months"][1]["false_alarm_rate"] == pytest.approx(1 / 6)
    assert front["months"][2]["verdict"] == (
        f"too little feedback to say (no rated alerts, {MIN_RATED} needed)"
    )
    assert front["total"]["false_alarm_rate"] == pytest.approx(2 / 9)
    assert front["calibration"]["verdict"] == (
        "too little feedback on both sides of the calibration's start to compare"
    )


async def test_the_month_before_the_window_and_one_camera(house_client) -> None:
    """The garage alert of 23:30 on the last day of M-3 in New York (M-2 in UTC) is in M-3."""
    body = await report(house_client, months=4, camera_id="garage")
    assert [camera["camera_id"] for camera in body["cameras"]] == ["garage"]
    (garage,) = body["cameras"]
    assert garage["months"][0]["month"] == month_label(NOW, 3)
    assert garage["months"][0]["alerts_sent"] == 1
    assert garage["months"][1]["alerts_sent"] == 5
    assert garage["total"]["alerts_sent"] == 14


async def test_a_month_boundary_follows_the_house_zone(db_sessions, house, seeded) -> None:
    """In UTC the front door's 23:30 alert belongs to M, not M-1."""
    async with db_sessions() as session:
        in_house = await queries.stats_report(session, house, 3, "front_door", now=NOW)
        utc = msgspec.structs.replace(house, timezone="UTC")
        in_utc = await queries.stats_report(session, utc, 3, "front_door", now=NOW)
    assert [m.alerts_sent for m in in_house.cameras[0].months] == [4, 6, 0]
    assert [m.alerts_sent for m in in_utc.cameras[0].months] == [4, 5, 1]


async def test_no_alerts_and_bad_requests(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "attic")
    body = await report(client)
    assert len(body["months"]) == 6
    (attic,) = body["cameras"]
    assert all(month["alerts_sent"] == 0 for month in attic["months"])
    assert attic["calibration"]["learnt_at"] is None
    assert attic["calibration"]["verdict"].startswith("calibration has not learnt yet")
    assert (await client.get("/api/stats", params={"camera_id": "nowhere"})).status_code == 404
    for months in ("0", "25", "x"):
        assert (await client.get("/api/stats", params={"months": months})).status_code == 400


async def test_api_keys_guard_the_stats(make_app, db_sessions, tmp_path) -> None:
    keyed = make_settings(
        tmp_path / "keyed", foscam_base_path=tmp_path, allowed_hosts=("testserver.local",),
        api_key_enabled=True,
    )  # fmt: skip
    async with AsyncTestClient(make_app(settings=keyed)) as keyed_client:
        response = await keyed_client.get("/api/stats")
        page = await keyed_client.get("/stats", follow_redirects=False)
    assert response.status_code == 401
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")
