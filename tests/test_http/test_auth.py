"""API keys on requests and WebSockets, the key cache, and the refusal of an open public bind."""

from __future__ import annotations

import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import AsyncTestClient

from homesec.contract.errors import HomesecError
from homesec.http.auth import ApiKeyStore
from homesec.http.server import InsecureBindError, check_bind_safety
from homesec.models import APIKey
from homesec.store.api_keys import hash_api_key

KEY = "correct horse battery staple"


@pytest.fixture
async def secured_client(make_app, settings, db_sessions):
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key(KEY), name="test"))
        session.add(APIKey(key_hash=hash_api_key("revoked"), name="old", is_active=False))
    secured = msgspec.structs.replace(settings, api_key_enabled=True)
    async with AsyncTestClient(make_app(settings=secured)) as client:
        yield client


async def test_without_api_keys_everything_is_open(client) -> None:
    assert (await client.get("/api/events")).status_code == 200
    with await client.websocket_connect("/ws/events") as socket:
        socket.send_json({"type": "ping"})
        assert socket.receive_json(timeout=5) == {"type": "pong"}


async def test_routes_need_a_valid_key(secured_client) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": "revoked"}, {"X-API-Key": ""}):
        response = await secured_client.get("/api/events", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "X-API-Key" in response.json()["detail"]
    for path in ("/api/system/config", "/metrics", "/health/ready", "/api/dlq/stats"):
        assert (await secured_client.get(path)).status_code == 401, path
    refused_post = await secured_client.post("/api/logs", json={"level": "INFO", "message": "m"})
    assert refused_post.status_code == 401

    allowed = await secured_client.get("/api/events", headers={"X-API-Key": KEY})
    assert allowed.status_code == 200


async def test_liveness_docs_login_and_static_files_stay_public(secured_client) -> None:
    for path in ("/health", "/schema", "/schema/openapi.json", "/login", "/static/dashboard.css"):
        assert (await secured_client.get(path)).status_code == 200, path
    # The pages hold data: a browser without a session is sent to the login page.
    page = await secured_client.get("/cameras?x=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fcameras%3Fx%3D1"


async def test_bearer_token_is_a_key(secured_client) -> None:
    allowed = await secured_client.get("/api/events", headers={"Authorization": f"Bearer {KEY}"})
    assert allowed.status_code == 200
    for value in ("Bearer wrong", f"Basic {KEY}", "Bearer "):
        refused = await secured_client.get("/api/events", headers={"Authorization": value})
        assert refused.status_code == 401, value


async def test_websockets_close_1008_without_a_key(secured_client) -> None:
    for path in ("/ws/events", "/ws/system", "/ws/events?api_key=wrong"):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            await secured_client.websocket_connect(path) as socket,
        ):
            socket.receive_json(timeout=5)
        assert closed.value.code == 1008, path

    with await secured_client.websocket_connect(f"/ws/events?api_key={KEY}") as socket:
        socket.send_json({"type": "ping"})
        assert socket.receive_json(timeout=5) == {"type": "pong"}


async def test_key_cache_reloads_after_its_ttl() -> None:
    now = [0.0]
    active = [hash_api_key("first")]
    loads = []

    async def load() -> list[str]:
        loads.append(now[0])
        return list(active)

    store = ApiKeyStore(load, ttl=5.0, clock=lambda: now[0])
    assert await store.accepts("first")
    active[:] = [hash_api_key("second")]  # first revoked, second added
    now[0] = 4.9
    assert await store.accepts("first")  # still cached
    assert not await store.accepts("second")
    now[0] = 5.0
    assert not await store.accepts("first")
    assert await store.accepts("second")
    assert not await store.accepts(None)
    assert loads == [0.0, 5.0]


@pytest.mark.parametrize(
    ("host", "keys_on", "allow", "refused"),
    [
        ("127.0.0.1", False, False, False),
        ("localhost", False, False, False),
        ("::1", False, False, False),
        ("127.0.0.2", False, False, False),
        ("0.0.0.0", False, False, True),
        ("192.168.1.10", False, False, True),
        ("::", False, False, True),
        ("homesec.lan", False, False, True),
        ("0.0.0.0", True, False, False),
        ("0.0.0.0", False, True, False),
    ],
)
def test_bind_safety(settings, host, keys_on, allow, refused) -> None:
    chosen = msgspec.structs.replace(
        settings, host=host, api_key_enabled=keys_on, allow_insecure_bind=allow
    )
    if not refused:
        check_bind_safety(chosen)
        return
    with pytest.raises(InsecureBindError) as error:
        check_bind_safety(chosen)
    assert isinstance(error.value, HomesecError)
    assert f"HOMESEC_HOST={host}" in str(error.value)
    assert "HOMESEC_ALLOW_INSECURE_BIND" in str(error.value)
