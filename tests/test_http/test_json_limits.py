"""Issue 21: a JSON body nested too deep is a 400 and one too large a 413, both problem+json, on
every route that takes JSON; msgspec's RecursionError never becomes a 500."""

from __future__ import annotations

import pytest

from homesec.http.request_checks import json_too_deep
from homesec.http.routes.live import _is_ping
from tests.support.rows import add_camera, add_event

PROBLEM = "application/problem+json"
DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000

JSON_ROUTES = [
    ("POST", "/api/cameras"),
    ("PATCH", "/api/cameras/front_door"),
    ("POST", "/api/cameras/front_door/ftp-account"),
    ("PATCH", "/api/events/1"),
    ("POST", "/api/events/1/feedback"),
    ("POST", "/api/logs"),
    ("POST", "/api/alerts/rules"),
    ("PATCH", "/api/alerts/rules/1"),
]


@pytest.fixture
async def seeded(db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front_door")
    await add_event(db_sessions, camera_id="front_door")


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
async def test_deep_json_is_a_400_on_every_json_route(client, seeded, body) -> None:
    for method, path in JSON_ROUTES:
        for content_type in ("application/json", "text/plain"):
            response = await client.request(
                method, path, content=body, headers={"Content-Type": content_type}
            )
            assert response.status_code == 400, (method, path, response.text[:300])
            assert response.headers["content-type"].startswith(PROBLEM)
            assert "nested" in response.json()["detail"], response.json()


async def test_depth_inside_strings_does_not_count(client, seeded) -> None:
    name = "[" * 200 + "{" * 200 + '\\"['
    response = await client.post("/api/cameras", json={"name": "Porch " + name[:50]})
    assert response.status_code == 201, response.text
    # A frontend log line's extra may nest a little.
    extra = {"a": {"b": {"c": [[{"d": 1}]]}}}
    logged = await client.post("/api/logs", json={"level": "INFO", "message": "x", "extra": extra})
    assert logged.status_code == 201, logged.text


async def test_a_body_too_large_is_a_413(client, seeded) -> None:
    body = '{"name": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = await client.post(
        "/api/cameras", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"].startswith(PROBLEM)


def test_depth_is_counted_outside_strings_only() -> None:
    assert not json_too_deep(
        b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[["}', limit=2
    )
    assert json_too_deep(b'{"a": [[1]]}', limit=2)
    assert not json_too_deep(b'{"a": [1]}', limit=2)


def test_a_deep_websocket_message_is_not_a_ping() -> None:
    assert _is_ping('{"type": "ping"}')
    assert not _is_ping(DEEP_ARRAY)
    assert not _is_ping("[" * 90 + "]" * 90)
