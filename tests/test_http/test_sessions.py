"""Dashboard logins: the key becomes a session cookie; logout; the cross-site check."""

from __future__ import annotations

import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from homesec.models import APIKey
from homesec.store.api_keys import hash_api_key

KEY = "correct horse battery staple"
HOST = "testserver.local"


@pytest.fixture
async def secured_client(make_app, settings, db_sessions):
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key(KEY), name="test"))
    secured = msgspec.structs.replace(settings, api_key_enabled=True, session_hours=2)
    async with AsyncTestClient(make_app(settings=secured)) as client:
        yield client


async def _login(client, key: str = KEY, next_path: str = "/cameras"):
    return await client.post("/login", data={"key": key, "next": next_path}, follow_redirects=False)


async def test_login_sets_a_strict_httponly_expiring_cookie_without_the_key(secured_client):
    response = await _login(secured_client)
    assert response.status_code == 303
    assert response.headers["location"] == "/cameras"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("homesec_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Max-Age=7200" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS it is set
    assert KEY not in cookie and hash_api_key(KEY) not in cookie
    # The cookie opens the pages, the API and the images' routes.
    for path in ("/", "/cameras", "/system", "/api/events"):
        assert (await secured_client.get(path)).status_code == 200, path


async def test_the_cookie_is_secure_behind_an_https_proxy(secured_client):
    for header in ({"X-Forwarded-Proto": "https"}, {"Forwarded": "for=10.0.0.2;proto=https"}):
        response = await secured_client.post(
            "/login", data={"key": KEY}, headers=header, follow_redirects=False
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"], header


async def test_a_wrong_key_shows_the_form_again(secured_client):
    response = await _login(secured_client, key="wrong")
    assert response.status_code == 401
    assert "not valid" in response.text
    assert "set-cookie" not in response.headers
    assert (await secured_client.get("/api/events")).status_code == 401


async def test_next_never_leaves_the_site(secured_client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await _login(secured_client, next_path=target)
        assert response.headers["location"] == "/", target


async def test_logout_ends_the_session(secured_client):
    await _login(secured_client)
    token = secured_client.cookies.get("homesec_session")
    assert (await secured_client.get("/api/events")).status_code == 200
    response = await secured_client.post("/logout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    # Even a copy of the cookie no longer works: the session is gone from Redis.
    secured_client.cookies.set("homesec_session", token)
    assert (await secured_client.get("/api/events")).status_code == 401


async def test_revoking_the_key_ends_its_sessions(secured_client, db_sessions):
    await _login(secured_client)
    assert (await secured_client.get("/api/events")).status_code == 200
    async with db_sessions.begin() as session:
        await session.execute(update(APIKey).values(is_active=False))
    services = secured_client.app.state.services
    services.api_keys._loaded_at = None  # skip the few seconds of the key cache
    assert (await secured_client.get("/api/events")).status_code == 401


async def test_websocket_accepts_the_session_cookie(secured_client):
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        await secured_client.websocket_connect("/ws/events") as socket,
    ):
        socket.receive_json(timeout=5)
    assert closed.value.code == 1008
    await _login(secured_client)
    cookie = f"homesec_session={secured_client.cookies.get('homesec_session')}"
    with await secured_client.websocket_connect("/ws/events", headers={"cookie": cookie}) as socket:
        socket.send_json({"type": "ping"})
        assert socket.receive_json(timeout=5) == {"type": "pong"}


async def test_cross_site_unsafe_requests_are_refused(secured_client, db_sessions):
    await _login(secured_client)
    evil = {"Origin": "https://evil.example"}
    for method, path in (
        ("PATCH", "/api/events/1"),
        ("POST", "/api/dlq/detection_queue/requeue"),
        ("DELETE", "/api/dlq/detection_queue"),
        ("POST", "/logout"),
        ("POST", "/login"),
    ):
        response = await secured_client.request(method, path, headers=evil, json={})
        assert response.status_code == 403, (method, path)
        assert "another site" in response.json()["detail"]
    marked = await secured_client.post(
        "/api/dlq/detection_queue/requeue", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert marked.status_code == 403
    # The same request from the site's own page passes the check.
    own = await secured_client.post(
        "/api/dlq/detection_queue/requeue",
        headers={"Origin": str(secured_client.base_url).rstrip("/")},
    )
    assert own.status_code == 200
    # A cross-site page may still read (GET is safe, and SameSite keeps the cookie home).
    assert (await secured_client.get("/api/events", headers=evil)).status_code == 200


async def test_cross_site_check_holds_with_keys_off(client):
    refused = await client.delete(
        "/api/dlq/detection_queue", headers={"Origin": "http://192.168.1.66"}
    )
    assert refused.status_code == 403
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        await client.websocket_connect(
            "/ws/events", headers={"origin": "https://evil.example"}
        ) as socket,
    ):
        socket.receive_json(timeout=5)
    assert closed.value.code == 1008
    # Clients that are not browsers send no Origin.
    assert (await client.delete("/api/dlq/detection_queue")).status_code == 200


async def test_with_keys_off_there_is_no_login(client):
    page = await client.get("/login", follow_redirects=False)
    assert page.status_code in (302, 303, 307)
    assert (await client.get("/")).status_code == 200
