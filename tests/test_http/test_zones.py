"""``/api/cameras/{id}/zones``: a camera's whole list of zones, read and replaced; bad lists
are a 400 that says what is wrong; protected like the other camera writes."""

from __future__ import annotations

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from homesec.models import APIKey, CameraZoneRow
from homesec.store.api_keys import hash_api_key
from tests.support.rows import add_camera, add_detection, add_event

STREET = {"name": "street", "points": [[0, 0], [1, 0], [1, 0.3], [0, 0.3]], "action": "ignore"}
DRIVEWAY = {
    "name": "driveway",
    "points": [[0.1, 0.4], [0.6, 0.4], [0.6, 1], [0.1, 1]],
    "action": "watch",
    "objects": ["car", "person"],
}


def assert_problem(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    for word in words:
        assert word in response.json()["detail"], response.json()


async def test_a_camera_has_no_zones_until_a_list_is_put(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front")
    assert (await client.get("/api/cameras/front/zones")).json() == []

    saved = await client.put("/api/cameras/front/zones", json=[STREET, DRIVEWAY])
    assert saved.status_code == 200, saved.text
    assert saved.json() == [STREET, DRIVEWAY]
    assert (await client.get("/api/cameras/front/zones")).json() == [STREET, DRIVEWAY]

    # The body is the whole list: a second PUT replaces the first, [] removes them all.
    again = await client.put("/api/cameras/front/zones", json=[DRIVEWAY])
    assert again.json() == [DRIVEWAY]
    assert (await client.get("/api/cameras/front/zones")).json() == [DRIVEWAY]
    assert (await client.put("/api/cameras/front/zones", json=[])).json() == []
    async with db_sessions() as session:
        assert (await session.scalars(select(CameraZoneRow))).all() == []


async def test_zones_of_a_camera_that_is_not_there_are_a_404(client) -> None:
    assert_problem(await client.get("/api/cameras/ghost/zones"), 404, "ghost")
    assert_problem(await client.put("/api/cameras/ghost/zones", json=[STREET]), 404, "ghost")


async def test_removing_the_camera_removes_its_zones(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front")
    await client.put("/api/cameras/front/zones", json=[STREET])
    assert (await client.delete("/api/cameras/front")).status_code == 204
    async with db_sessions() as session:
        assert (await session.scalars(select(CameraZoneRow))).all() == []


def with_(base: dict, **changes) -> dict:
    return {**base, **changes}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([with_(STREET, points=[[0, 0], [1, 0]])], ["zone 1 ('street')", "at least 3"]),
        ([with_(STREET, points=[[0, 0], [1.5, 0], [1, 1]])], ["point 2", "outside the frame"]),
        ([with_(STREET, points=[[0, 0], [1, 1], [1, 0], [0, 1]])], ["crosses itself"]),
        ([STREET, with_(DRIVEWAY, name="Street")], ["zone 2", "taken by zone 1"]),
        ([with_(STREET, name="")], ["name is empty"]),
        ([with_(STREET, action="alarm")], ["unknown action 'alarm'"]),
        ([with_(DRIVEWAY, objects=["ufo"])], ["unknown object kind 'ufo'"]),
        ([with_(STREET, name=f"z{i}") for i in range(33)], ["at most 32"]),
        ([with_(STREET, points=[[i / 100, i % 2] for i in range(65)])], ["at most 64"]),
        # What the decoder refuses is a 400 too, naming the field.
        ([with_(STREET, colour="red")], ["colour"]),
        ([{"name": "street", "action": "ignore"}], ["points"]),
        ([with_(STREET, points="everywhere")], ["Expected `array`, got `str`"]),
        ({"zones": [STREET]}, ["array"]),
    ],
)
async def test_a_bad_list_is_a_400_saying_what_is_wrong(
    client, db_sessions, settings, body, words
) -> None:
    await add_camera(db_sessions, settings, "front")
    await client.put("/api/cameras/front/zones", json=[DRIVEWAY])
    assert_problem(await client.put("/api/cameras/front/zones", json=body), 400, *words)
    # Nothing of a refused list is stored.
    assert (await client.get("/api/cameras/front/zones")).json() == [DRIVEWAY]


async def test_saving_zones_needs_a_key_and_the_sites_own_page(
    make_app, settings, db_sessions
) -> None:
    await add_camera(db_sessions, settings, "front")
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key("k"), name="test"))
    secured = msgspec.structs.replace(settings, api_key_enabled=True)
    async with AsyncTestClient(make_app(settings=secured)) as client:
        assert (await client.put("/api/cameras/front/zones", json=[STREET])).status_code == 401
        assert (await client.get("/api/cameras/front/zones")).status_code == 401
        cross_site = await client.put(
            "/api/cameras/front/zones",
            json=[STREET],
            headers={"X-API-Key": "k", "Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
        ok = await client.put("/api/cameras/front/zones", json=[STREET], headers={"X-API-Key": "k"})
        assert ok.status_code == 200
        assert ok.json() == [STREET]


async def test_detections_say_the_zones_they_stood_in(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front")
    placed = await add_detection(db_sessions, camera_id="front", zones=["porch", "street"])
    older = await add_detection(db_sessions, camera_id="front")  # stored before zones
    assert (await client.get(f"/api/detections/{placed}")).json()["zones"] == ["porch", "street"]
    assert (await client.get(f"/api/detections/{older}")).json()["zones"] is None


async def test_the_event_page_says_where_each_detection_stood(client, db_sessions, settings):
    await add_camera(db_sessions, settings, "front")
    placed = await add_detection(db_sessions, camera_id="front", zones=["porch door"])
    nowhere = await add_detection(db_sessions, camera_id="front", zones=[], object_type="dog")
    event = await add_event(db_sessions, camera_id="front", detection_ids=f"[{placed}, {nowhere}]")
    html = (await client.get(f"/events/{event}")).text
    assert html.count('class="muted zones"') == 1
    assert '<span class="muted zones">in porch door</span>' in html
