"""Issue 21: every id, cursor, integer and date a client sends is checked against what the
database can hold before it gets there, and refused with 400 problem+json, never a 500."""

from __future__ import annotations

import base64

import pytest

from tests.support.rows import add_camera, add_event

PROBLEM = "application/problem+json"


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def assert_problem(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body


@pytest.mark.parametrize("route", ["/api/events", "/api/detections", "/api/logs"])
@pytest.mark.parametrize(
    "cursor_text",
    [
        "2026-01-01T00:00:00+00:00|2147483648",  # one past int4
        "2026-01-01T00:00:00+00:00|-1",
        "2026-01-01T00:00:00+00:00|99999999999999999999999",
        "0001-01-01T00:00:00+05:00|1",  # before the first instant UTC can hold
        "2026-01-01T00:00:00+00:00|\u0663",  # a non-ASCII digit
    ],
)
async def test_a_cursor_out_of_the_databases_range_is_a_400(client, route, cursor_text) -> None:
    response = await client.get(route, params={"cursor": cursor_of(cursor_text)})
    assert_problem(response, 400, "cursor")


async def test_the_reported_cursor_is_a_400(client) -> None:
    response = await client.get(
        "/api/events?cursor=MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHwyMTQ3NDgzNjQ4"
    )
    assert_problem(response, 400, "cursor")


async def test_ids_are_ascii_digits_only(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front_door")
    for _ in range(3):
        event_id = await add_event(db_sessions, camera_id="front_door")
    assert event_id == 3
    assert (await client.get("/api/events/3")).status_code == 200
    # Arabic-Indic three, fullwidth three, a sign, a digit separator, a float, an exponent.
    for spelling in ["%D9%A3", "%EF%BC%93", "+3", "3_0", "3.0", "1e0", "%203"]:
        response = await client.get(f"/api/events/{spelling}")
        assert response.status_code in (400, 404), spelling
        assert response.headers["content-type"].startswith(PROBLEM), spelling
    for route in ["/api/detections/%D9%A3", "/api/alerts/rules/%D9%A3", "/events/%D9%A3"]:
        assert (await client.get(route)).status_code in (400, 404), route


async def test_an_id_past_int4_is_a_400(client) -> None:
    for route in ["/api/events/2147483648", "/api/detections/2147483648"]:
        assert_problem(await client.get(route), 400, "event_id" if "events" in route else "")


@pytest.mark.parametrize(
    "value", ["-4691", "1700000000", "1.5", "\u0662\u0660\u0662\u0666-01-01T00:00:00Z", "now"]
)
async def test_dates_are_iso_8601_only(client, value) -> None:
    for route in ["/api/events/stats", "/api/events", "/api/detections", "/api/logs"]:
        response = await client.get(route, params={"end_date": value})
        assert_problem(response, 400, "end_date")
    response = await client.get("/api/system/gpu/history", params={"until": value})
    assert_problem(response, 400, "until")


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00"]
)
async def test_dates_utc_cannot_hold_are_a_400(client, value) -> None:
    response = await client.get("/api/events", params={"start_date": value})
    if value == "0001-01-01T00:00:00":  # naive, taken as UTC: representable
        assert response.status_code == 200, response.text
    else:
        assert_problem(response, 400, "start_date")


async def test_iso_dates_still_work(client) -> None:
    for value in ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+02:00", "2026-01-01T00:00:00"]:
        response = await client.get("/api/events/stats", params={"end_date": value})
        assert response.status_code == 200, (value, response.text)


async def test_integer_query_parameters_are_ascii_digits(client) -> None:
    for value in ["\u0663", "1e1", "1.0", "+5", "2147483648"]:
        response = await client.get("/api/events", params={"limit": value})
        assert_problem(response, 400, "limit")
    response = await client.get("/api/alerts", params={"before_id": "2147483648"})
    assert_problem(response, 400, "before_id")
