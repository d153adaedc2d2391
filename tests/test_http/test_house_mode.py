"""``/api/mode``: read, set, the change log with who made it, bad input, keys and sessions."""

from __future__ import annotations

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from homesec.models import APIKey
from homesec.store import house_modes
from homesec.store.api_keys import hash_api_key

KEY = "correct horse battery staple"


@pytest.fixture
async def secured_client(make_app, settings, db_sessions):
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key(KEY), name="phone"))
    secured = msgspec.structs.replace(settings, api_key_enabled=True)
    async with AsyncTestClient(make_app(settings=secured)) as client:
        yield client


async def test_a_house_never_set_is_home_since_never(client):
    response = await client.get("/api/mode")
    assert response.status_code == 200
    assert response.json() == {
        "mode": "home",
        "since": None,
        "changed_by": None,
        "modes": ["home", "away", "night"],
    }
    assert (await client.get("/api/mode/history")).json() == {"items": [], "count": 0}


async def test_setting_the_mode_reads_back_and_is_logged(client, db_sessions):
    set_away = await client.put("/api/mode", json={"mode": "away"})
    assert set_away.status_code == 200
    body = set_away.json()
    assert body["mode"] == "away" and body["since"] is not None
    assert body["changed_by"] == "dashboard"  # keys off: no one to name
    assert (await client.get("/api/mode")).json() == body

    await client.put("/api/mode", json={"mode": "night"})
    again = await client.put("/api/mode", json={"mode": "night"})  # the mode in force: no change
    assert again.status_code == 200 and again.json()["mode"] == "night"

    history = (await client.get("/api/mode/history")).json()
    assert [item["mode"] for item in history["items"]] == ["night", "away"]
    assert history["count"] == 2
    assert (await client.get("/api/mode/history?limit=1")).json()["count"] == 1
    stored = await house_modes.current(db_sessions)
    assert stored.mode == "night" and stored.changed_by == "dashboard"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"mode": "holiday"}, "mode must be one of home, away, night; got 'holiday'"),
        ({"mode": ""}, "mode must be one of home, away, night"),
        ({}, "mode"),
        ({"mode": "away", "until": "tomorrow"}, "until"),
        ({"mode": 3}, "mode"),
    ],
)
async def test_bad_input_gets_a_400_that_says_what_is_wrong(client, db_sessions, body, detail):
    response = await client.put("/api/mode", json=body)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"], response.json()
    assert (await house_modes.current(db_sessions)).changed_at is None  # nothing was set


async def test_history_limit_is_checked(client):
    assert (await client.get("/api/mode/history?limit=0")).status_code == 400
    assert (await client.get("/api/mode/history?limit=abc")).status_code == 400


async def test_without_a_key_the_mode_is_neither_read_nor_set(secured_client, db_sessions):
    assert (await secured_client.get("/api/mode")).status_code == 401
    refused = await secured_client.put("/api/mode", json={"mode": "away"})
    assert refused.status_code == 401
    wrong = await secured_client.put("/api/mode", json={"mode": "away"}, headers={"X-API-Key": "x"})
    assert wrong.status_code == 401
    assert (await house_modes.current(db_sessions)).mode == "home"


async def test_a_key_and_a_dashboard_session_are_logged_by_the_key_name(secured_client):
    by_key = await secured_client.put(
        "/api/mode", json={"mode": "away"}, headers={"X-API-Key": KEY}
    )
    assert by_key.status_code == 200 and by_key.json()["changed_by"] == "key phone"

    login = await secured_client.post(
        "/login", data={"key": KEY, "next": "/"}, follow_redirects=False
    )
    assert login.status_code == 303
    own_site = {"Origin": str(secured_client.base_url).rstrip("/")}
    by_session = await secured_client.put("/api/mode", json={"mode": "home"}, headers=own_site)
    assert by_session.status_code == 200 and by_session.json()["changed_by"] == "key phone"


async def test_a_cross_site_page_cannot_set_the_mode(client, db_sessions):
    evil = await client.put(
        "/api/mode", json={"mode": "away"}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert (await house_modes.current(db_sessions)).mode == "home"
