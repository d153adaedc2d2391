"""``GET /api/events?q=``: the search box's words, ranked and highlighted, with time words and
the other filters, over realistic events in a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from homesec.store import events as store_events
from tests.support.rows import add_camera, add_detection, add_event

ZONE = ZoneInfo("Europe/London")


def _local_day(days_ago: int, hour: int) -> dt.datetime:
    """``hour`` o'clock in the house's zone, ``days_ago`` days before today there."""
    today = dt.datetime.now(ZONE).date()
    return dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour), tzinfo=ZONE)


@pytest.fixture
async def search_client(make_app, settings):
    zoned = msgspec.structs.replace(settings, timezone="Europe/London")
    async with AsyncTestClient(app=make_app(settings=zoned)) as client:
        yield client


async def _seed(db_sessions, settings) -> dict[str, int]:
    for camera in ("front_door", "back_door", "driveway"):
        await add_camera(db_sessions, settings, camera)

    async def event(name: str, camera: str, at: dt.datetime, kinds, zones, **fields) -> None:
        ids = [
            await add_detection(db_sessions, camera_id=camera, object_type=kind, zones=zones)
            for kind in kinds
        ]
        ids_text = store_events.encode_detection_ids(ids)
        seeded[name] = await add_event(
            db_sessions, batch_id=name, camera_id=camera, started_at=at,
            detection_ids=ids_text, **fields,
        )  # fmt: skip

    seeded: dict[str, int] = {}
    await event(
        "courier", "front_door", _local_day(1, 14), ["person"], ["porch"],
        summary="A courier left a parcel at the front door", risk_score=20, risk_level="low",
        reasoning="Daytime visit of a few seconds; left a box and went.",
    )  # fmt: skip
    await event(
        "back_last_night", "back_door", _local_day(1, 23), ["person"], ["garden path"],
        summary="A person walked slowly along the house", risk_score=70, risk_level="high",
        reasoning="Night, close to the house, lingering.",
    )  # fmt: skip
    await event(
        "back_days_ago", "back_door", _local_day(4, 23), ["person"], ["garden path"],
        summary="A person walked slowly along the house", risk_score=72, risk_level="high",
    )  # fmt: skip
    await event(
        "front_last_night", "front_door", _local_day(1, 22), ["person"], [],
        summary="A person rang the bell", risk_score=40, risk_level="medium",
    )  # fmt: skip
    await event(
        "van", "driveway", _local_day(2, 9), ["car"], ["drive"],
        summary="A vehicle stopped in the driveway", risk_score=15, risk_level="low",
        notes="The neighbour's plumber, parked for an hour",
    )  # fmt: skip
    await event(
        "script", "front_door", _local_day(3, 12), ["person"], [],
        summary="<script>alert('x')</script> person at the gate & the <b>fence</b>",
        risk_score=30, risk_level="medium",
    )  # fmt: skip
    return seeded


async def _search(client, **params) -> dict:
    response = await client.get("/api/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


async def test_deliveries_finds_the_courier_with_its_words_marked(
    search_client, db_sessions, settings
) -> None:
    e = await _seed(db_sessions, settings)
    page = await _search(search_client, q="deliveries")
    assert _ids(page) == [e["courier"]]
    match = page["items"][0]["search"]
    assert match["summary_html"] == (
        "A <mark>courier</mark> left a <mark>parcel</mark> at the front door"
    )
    assert match["relevance"] > 0
    assert page["search"]["words"] == "deliveries"
    # Stemming: another form of a word in the summary.
    assert _ids(await _search(search_client, q="parcels")) == [e["courier"]]
    assert _ids(await _search(search_client, q="couriers left")) == [e["courier"]]


async def test_words_match_kinds_zones_cameras_notes_and_reasoning(
    search_client, db_sessions, settings
) -> None:
    e = await _seed(db_sessions, settings)
    assert _ids(await _search(search_client, q="car")) == [e["van"]]  # an object's kind
    assert _ids(await _search(search_client, q="garden")) == [
        e["back_last_night"],
        e["back_days_ago"],
    ]  # a zone's name
    assert _ids(await _search(search_client, q="driveway")) == [e["van"]]  # camera and summary
    assert set(_ids(await _search(search_client, q="back door"))) == {
        e["back_last_night"],
        e["back_days_ago"],
    }  # the camera's name
    notes = await _search(search_client, q="plumber")  # the owner's notes
    assert _ids(notes) == [e["van"]]
    assert notes["items"][0]["search"]["snippet_html"] == (
        "neighbour&#39;s <mark>plumber</mark>, parked for an hour"
    )  # a fragment around the match (ts_headline leaves out a leading stop word)
    assert notes["items"][0]["search"]["summary_html"] is None
    assert _ids(await _search(search_client, q="lingering")) == [e["back_last_night"]]


async def test_person_back_door_last_night_narrows_by_camera_and_time(
    search_client, db_sessions, settings
) -> None:
    e = await _seed(db_sessions, settings)
    page = await _search(search_client, q="person back door last night")
    assert _ids(page) == [e["back_last_night"]]
    assert page["search"]["words"] == "person back door"
    assert page["search"]["time_phrases"] == ["last night"]
    start = dt.datetime.fromisoformat(page["search"]["start"])
    assert start == _local_day(1, 18)
    # Without the camera's words, last night's other person event is found too.
    assert set(_ids(await _search(search_client, q="person last night"))) == {
        e["back_last_night"],
        e["front_last_night"],
    }
    # Time words alone: last night's events, newest first, not ranked.
    alone = await _search(search_client, q="last night")
    assert _ids(alone) == [e["back_last_night"], e["front_last_night"]]
    assert all("search" not in item for item in alone["items"])
    assert alone["search"]["words"] is None


async def test_a_search_combines_with_the_other_filters(
    search_client, db_sessions, settings
) -> None:
    e = await _seed(db_sessions, settings)
    assert _ids(await _search(search_client, q="person", risk_level="high")) == [
        e["back_last_night"],
        e["back_days_ago"],
    ]
    assert set(_ids(await _search(search_client, q="person", camera_id="front_door"))) == {
        e["front_last_night"],
        e["courier"],
        e["script"],
    }
    start = _local_day(2, 0).isoformat()
    assert _ids(await _search(search_client, q="walked", start_date=start)) == [
        e["back_last_night"]
    ]
    found = await _search(search_client, q="person yesterday", object_type="person")
    assert set(_ids(found)) == {e["back_last_night"], e["front_last_night"], e["courier"]}
    assert _ids(await _search(search_client, q="person yesterday", object_type="car")) == []
    assert set(_ids(await _search(search_client, q="walked", object_type="person"))) == {
        e["back_last_night"],
        e["back_days_ago"],
    }
    assert _ids(await _search(search_client, q="walked", object_type="car")) == []
    assert _ids(await _search(search_client, q="walked", risk_level="low")) == []
    # Filter values no camera, band or kind can hold find nothing, and fail nothing.
    for odd in ("o'brien", "a & b", "x:*", "Front_Door"):
        assert _ids(await _search(search_client, q="person", camera_id=odd)) == []
        assert _ids(await _search(search_client, q="person", object_type=odd)) == []
    # A time word outside the given range: nothing, not an error.
    assert (
        _ids(await _search(search_client, q="today", end_date=_local_day(3, 0).isoformat())) == []
    )


async def test_ranking_puts_the_summary_before_the_reasoning(
    search_client, db_sessions, settings
) -> None:
    await add_camera(db_sessions, settings, "porch")
    in_reasoning = await add_event(
        db_sessions, batch_id="r", camera_id="porch", started_at=_local_day(0, 1),
        summary="Someone at the porch", reasoning="Looks like a fox passing by",
    )  # fmt: skip
    in_summary = await add_event(
        db_sessions, batch_id="s", camera_id="porch", started_at=_local_day(3, 1),
        summary="A fox crossed the lawn",
    )  # fmt: skip
    page = await _search(search_client, q="fox")
    assert _ids(page) == [in_summary, in_reasoning]  # the older, better match first
    assert page["items"][0]["search"]["relevance"] > page["items"][1]["search"]["relevance"]


async def test_a_summary_cannot_inject_html(search_client, db_sessions, settings) -> None:
    e = await _seed(db_sessions, settings)
    page = await _search(search_client, q="gate")
    assert _ids(page) == [e["script"]]
    html = page["items"][0]["search"]["summary_html"]
    assert "<script>" not in html and "<b>" not in html
    assert html == (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; person at the <mark>gate</mark> "
        "&amp; the &lt;b&gt;fence&lt;/b&gt;"
    )


async def test_search_pages_follow_the_ranking(search_client, db_sessions, settings) -> None:
    e = await _seed(db_sessions, settings)
    first = await _search(search_client, q="person", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = _ids(first)
    cursor = first["next_cursor"]
    while cursor:
        page = await _search(search_client, q="person", limit=2, cursor=cursor)
        seen += _ids(page)
        cursor = page["next_cursor"]
    everything = await _search(search_client, q="person", limit=50)
    assert seen == _ids(everything)
    persons = {"courier", "back_last_night", "back_days_ago", "front_last_night", "script"}
    assert set(seen) == {e[name] for name in persons}
    relevances = [item["search"]["relevance"] for item in everything["items"]]
    assert relevances == sorted(relevances, reverse=True)
    # A plain cursor does not page a search, nor a search's cursor a plain list.
    plain = (await search_client.get("/api/events", params={"limit": 1})).json()["next_cursor"]
    response = await search_client.get("/api/events", params={"q": "person", "cursor": plain})
    assert response.status_code == 400
    response = await search_client.get("/api/events", params={"cursor": first["next_cursor"]})
    assert response.status_code == 400


@pytest.mark.parametrize("q", ["", "   "])
async def test_an_empty_search_is_no_search(search_client, db_sessions, settings, q) -> None:
    e = await _seed(db_sessions, settings)
    page = await _search(search_client, q=q)
    assert len(page["items"]) == len(e)
    assert "search" not in page


@pytest.mark.parametrize("q", ["!!!", "the", "&|!():*<->", "-", '"', "a an the of"])
async def test_nothing_to_search_for_is_a_clear_400(
    search_client, db_sessions, settings, q
) -> None:
    await _seed(db_sessions, settings)
    response = await search_client.get("/api/events", params={"q": q})
    assert response.status_code == 400, response.text
    assert "nothing to search for" in response.json()["detail"]


async def test_sql_in_a_search_is_only_words(search_client, db_sessions, settings) -> None:
    e = await _seed(db_sessions, settings)
    assert _ids(await _search(search_client, q="'; DROP TABLE events; --x")) == []
    assert len((await _search(search_client))["items"]) == len(e)


@pytest.mark.parametrize(
    "q",
    [
        "x" * 201,
        "person\x00",
        "é" * 200 + "!",
        "🙂 door",
        "\uff50\uff45\uff52\uff53\uff4f\uff4e",  # "person" in full-width letters
        "person:*",
        "a <-> b",
    ],
)
async def test_odd_searches_never_fail(search_client, db_sessions, settings, q) -> None:
    await _seed(db_sessions, settings)
    response = await search_client.get("/api/events", params={"q": q})
    assert response.status_code in (200, 400), response.text


async def test_time_words_with_only_stop_words_left_stand_alone(
    search_client, db_sessions, settings
) -> None:
    e = await _seed(db_sessions, settings)
    page = await _search(search_client, q="on the night of yesterday")
    # "night" alone is a word, not a time phrase: it must match, and nothing says "night"
    # in a summary but the reasoning of one event.
    assert _ids(page) == [e["back_last_night"]]
    assert _ids(await _search(search_client, q="on yesterday")) == [
        e["back_last_night"],
        e["front_last_night"],
        e["courier"],
    ]


async def test_notes_edited_are_found_at_once(search_client, db_sessions, settings) -> None:
    e = await _seed(db_sessions, settings)
    assert _ids(await _search(search_client, q="grandma")) == []
    response = await search_client.patch(
        f"/api/events/{e['front_last_night']}", json={"notes": "Grandma visiting"}
    )
    assert response.status_code == 200
    assert _ids(await _search(search_client, q="grandma")) == [e["front_last_night"]]


async def test_a_renamed_camera_is_found_by_its_new_name(
    search_client, db_sessions, settings
) -> None:
    e = await _seed(db_sessions, settings)
    response = await search_client.patch("/api/cameras/driveway", json={"name": "Carport"})
    assert response.status_code == 200, response.text
    assert _ids(await _search(search_client, q="carport")) == [e["van"]]
