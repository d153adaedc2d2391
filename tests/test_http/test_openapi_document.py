"""Issue 21: the OpenAPI document says what the API does: every status a route answers with,
errors as application/problem+json, Last-Modified as the HTTP date it is."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


@pytest.fixture
async def document(client) -> dict:
    return (await client.get("/schema/openapi.json")).json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


async def test_every_error_is_a_documented_problem(document) -> None:
    assert "Problem" in document["components"]["schemas"]
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert {"400", "500"} <= set(responses), (method, path)
        if method != "get":
            assert "403" in responses, (method, path)
        for status, response in responses.items():
            if status[0] not in "45" or (path, status) == ("/health/ready", "503"):
                continue
            assert list(response["content"]) == [PROBLEM], (method, path, status)


async def test_not_found_and_conflict_are_documented(document) -> None:
    paths = document["paths"]
    for path in [
        "/api/events/{event_id}",
        "/api/detections/{detection_id}",
        "/api/cameras/{camera_id}",
        "/api/alerts/rules/{rule_id}",
    ]:
        assert "404" in paths[path]["get"]["responses"], path
    assert "409" in paths["/api/cameras"]["post"]["responses"]
    assert {"200", "201"} <= set(paths["/api/cameras/{camera_id}/ftp-account"]["post"]["responses"])
    assert "503" in paths["/health/ready"]["get"]["responses"]


async def test_last_modified_is_an_http_date_not_a_date_time(document) -> None:
    headers = document["paths"]["/api/detections/{detection_id}/thumbnail"]["get"]["responses"][
        "200"
    ]["headers"]
    assert headers["last-modified"]["schema"].get("format") != "date-time"


async def test_a_404_is_sent_as_documented(client) -> None:
    response = await client.get("/api/events/424242")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
