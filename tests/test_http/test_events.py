"""``/api/events``: filters, keyset pagination, statistics, review, detections."""

from __future__ import annotations

import datetime as dt

from homesec.models import Event
from tests.support.http_app import walk
from tests.support.rows import T0, add_camera, add_detection, add_event, seed_filter_cases


async def ids_for(client, **params) -> list[int]:
    response = await client.get("/api/events", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_each_filter_selects_exactly_its_events(client, db_sessions, settings) -> None:
    e = await seed_filter_cases(db_sessions, settings)
    newest_first = [
        e["unscored_no_ids"],
        e["medium_car_reviewed"],
        e["critical_fast"],
        e["low_person"],
    ]
    assert await ids_for(client) == newest_first
    assert await ids_for(client, camera_id="garage") == [
        e["unscored_no_ids"],
        e["medium_car_reviewed"],
    ]
    assert await ids_for(client, risk_level="critical") == [e["critical_fast"]]
    assert await ids_for(client, min_risk_score=40) == [
        e["medium_car_reviewed"],
        e["critical_fast"],
    ]
    assert await ids_for(client, max_risk_score=45) == [e["medium_car_reviewed"], e["low_person"]]
    assert await ids_for(client, min_risk_score=40, max_risk_score=50) == [e["medium_car_reviewed"]]
    assert await ids_for(
        client, start_date="2025-12-23T13:00:00Z", end_date="2025-12-23T14:00:00Z"
    ) == [e["medium_car_reviewed"], e["critical_fast"]]
    # A time without an offset is UTC.
    assert await ids_for(client, end_date="2025-12-23T12:00:00") == [e["low_person"]]
    assert await ids_for(client, reviewed="true") == [e["medium_car_reviewed"]]
    assert await ids_for(client, reviewed="false") == [
        e["unscored_no_ids"],
        e["critical_fast"],
        e["low_person"],
    ]
    assert await ids_for(client, is_fast_path="true") == [e["critical_fast"]]
    assert await ids_for(client, object_type="person") == [e["critical_fast"], e["low_person"]]
    assert await ids_for(client, object_type="cat") == [e["low_person"]]
    assert await ids_for(client, object_type="car") == [e["medium_car_reviewed"]]
    assert await ids_for(client, object_type="dog") == []
    assert await ids_for(client, camera_id="front_door", object_type="car") == []
    combined = await ids_for(
        client, camera_id="front_door", risk_level="critical", start_date="2025-12-23T12:30:00Z"
    )
    assert combined == [e["critical_fast"]]


async def test_event_shape_follows_the_contract(client, db_sessions, settings) -> None:
    e = await seed_filter_cases(db_sessions, settings)
    event = (await client.get(f"/api/events/{e['low_person']}")).json()
    assert event == {
        "id": e["low_person"],
        "batch_id": "a",
        "camera_id": "front_door",
        "started_at": "2025-12-23T12:00:00Z",
        "ended_at": None,
        "risk_score": 10,
        "risk_level": "low",
        "summary": None,
        "reasoning": None,
        "detection_ids": [1, 3],
        "detection_count": 2,
        "reviewed": False,
        "notes": None,
        "is_fast_path": False,
    }


async def test_bad_filters_are_400_with_the_field_named(client) -> None:
    cases = [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"risk_level": "extreme"}, "risk_level"),
        ({"min_risk_score": 101}, "min_risk_score"),
        ({"min_risk_score": 60, "max_risk_score": 50}, "min_risk_score is above"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2025-12-24"}, "start_date: Invalid RFC3339"),
        (
            {"start_date": "2025-12-24T00:00:00Z", "end_date": "2025-12-23T00:00:00Z"},
            "start_date is after",
        ),
        ({"reviewed": "perhaps"}, "reviewed"),
        ({"cursor": "not-a-cursor"}, "cursor is not valid"),
        ({"camera_id": "a\x00b"}, "camera_id"),
    ]
    for params, expected in cases:
        response = await client.get("/api/events", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert expected in response.json()["detail"], (params, response.json())


async def test_pages_cover_every_event_once_in_order(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front_door")
    # 61 events, three to a timestamp, inserted out of order: ties must break by id.
    async with db_sessions.begin() as session:
        for index in reversed(range(61)):
            session.add(
                Event(
                    batch_id=f"b{index}",
                    camera_id="front_door",
                    started_at=T0 + dt.timedelta(minutes=index // 3),
                    risk_score=index % 100,
                )
            )
    async with db_sessions() as session:
        from sqlalchemy import select

        rows = (await session.execute(select(Event.id, Event.started_at))).all()
    expected = [row.id for row in sorted(rows, key=lambda r: (r.started_at, r.id), reverse=True)]

    for limit in (1, 7, 10, 61, 500):
        assert await walk(client, "/api/events", limit=limit) == expected

    first = (await client.get("/api/events", params={"limit": 10, "include_count": "true"})).json()
    assert first["count"] == 61 and len(first["items"]) == 10
    assert "count" not in (await client.get("/api/events", params={"limit": 10})).json()
    # Events added after the first page sort before it: the walk goes on where it was.
    await add_event(
        db_sessions, camera_id="front_door", batch_id="late", started_at=T0 + dt.timedelta(days=1)
    )
    rest = await walk(client, "/api/events", limit=10, cursor=first["next_cursor"])
    assert [item["id"] for item in first["items"]] + rest == expected


async def test_filtered_pages_walk_the_filtered_set(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front_door")
    await add_camera(db_sessions, settings, "garage")
    ids = {"front_door": [], "garage": []}
    for index in range(30):
        camera = "garage" if index % 3 == 0 else "front_door"
        ids[camera].append(
            await add_event(
                db_sessions,
                batch_id=f"b{index}",
                camera_id=camera,
                started_at=T0 + dt.timedelta(seconds=index),
            )
        )
    walked = await walk(client, "/api/events", limit=4, camera_id="garage")
    assert walked == list(reversed(ids["garage"]))


async def test_stats_by_level_and_camera(client, db_sessions, settings) -> None:
    await seed_filter_cases(db_sessions, settings)
    await add_camera(db_sessions, settings, "quiet")
    stats = (await client.get("/api/events/stats")).json()
    assert stats == {
        "total_events": 4,
        "events_by_risk_level": {"low": 1, "medium": 1, "high": 0, "critical": 1, "unscored": 1},
        "events_by_camera": [
            {"camera_id": "front_door", "camera_name": "Front Door", "event_count": 2},
            {"camera_id": "garage", "camera_name": "Garage", "event_count": 2},
            {"camera_id": "quiet", "camera_name": "Quiet", "event_count": 0},
        ],
    }
    windowed = (
        await client.get("/api/events/stats", params={"start_date": "2025-12-23T14:00:00Z"})
    ).json()
    assert windowed["total_events"] == 2
    assert windowed["events_by_risk_level"]["medium"] == 1


async def test_review_changes_only_reviewed_and_notes(client, db_sessions, settings) -> None:
    e = await seed_filter_cases(db_sessions, settings)
    path = f"/api/events/{e['critical_fast']}"
    response = await client.patch(path, json={"reviewed": True, "notes": "the postman"})
    assert response.status_code == 200
    assert response.json()["reviewed"] is True
    assert response.json()["notes"] == "the postman"
    # Absent fields stay; null clears the notes.
    assert (await client.patch(path, json={"reviewed": False})).json()["notes"] == "the postman"
    assert (await client.patch(path, json={"notes": None})).json()["notes"] is None

    for immutable in ({"risk_score": 0}, {"risk_level": "low"}, {"summary": "nothing"}):
        refused = await client.patch(path, json=immutable)
        assert refused.status_code == 400
        assert next(iter(immutable)) in refused.json()["detail"]
    assert (await client.get(path)).json()["risk_score"] == 95
    assert (await client.patch("/api/events/999999", json={"reviewed": True})).status_code == 404
    assert (await client.patch(path, json={"reviewed": "yes"})).status_code == 400


async def test_event_detections_and_missing_ones(client, db_sessions, settings) -> None:
    e = await seed_filter_cases(db_sessions, settings)
    listed = (await client.get(f"/api/events/{e['low_person']}/detections")).json()
    assert listed["count"] == 2
    assert [d["object_type"] for d in listed["items"]] == ["person", "cat"]
    empty = (await client.get(f"/api/events/{e['unscored_no_ids']}/detections")).json()
    assert empty == {"items": [], "count": 0}
    assert (await client.get("/api/events/424242/detections")).status_code == 404
    assert (await client.get("/api/events/0")).status_code == 400
    assert (await client.get("/api/events/99999999999")).status_code == 400


async def test_one_visit_is_one_entry_and_is_reviewed_as_one(client, db_sessions, settings):
    await add_camera(db_sessions, settings, "front_door")
    person = await add_detection(db_sessions, camera_id="front_door", object_type="person")
    fast = await add_event(
        db_sessions,
        batch_id=f"fast-{person}",
        camera_id="front_door",
        started_at=T0,
        risk_score=70,
        risk_level="high",
        detection_ids=f"[{person}]",
        is_fast_path=True,
        scored_by_engine="rules",
        prompt_version="rules-2",
    )
    final = await add_event(
        db_sessions,
        batch_id="visit",
        camera_id="front_door",
        started_at=T0,
        risk_score=20,
        risk_level="low",
        detection_ids=f"[{person}]",
        supersedes_event_id=fast,
        scored_by_engine="openai",
        scored_by_model="smollm2",
        prompt_version="prompt-2",
    )
    other = await add_event(db_sessions, batch_id="alone", camera_id="front_door", started_at=T0)

    listed = (await client.get("/api/events", params={"include_count": "true"})).json()
    assert [item["id"] for item in listed["items"]] == [other, final]
    assert listed["count"] == 2
    visit = listed["items"][1]
    assert visit["supersedes_event_id"] == fast
    assert (
        visit["preliminary"]["id"] == fast
        and visit["preliminary"]["superseded_by_event_id"] == final
    )
    assert (visit["scored_by_engine"], visit["scored_by_model"], visit["prompt_version"]) == (
        "openai",
        "smollm2",
        "prompt-2",
    )
    everything = (await client.get("/api/events", params={"include_superseded": "true"})).json()
    assert {item["id"] for item in everything["items"]} == {fast, final, other}
    stats = (await client.get("/api/events/stats")).json()
    assert stats["total_events"] == 2  # visits

    reviewed = await client.patch(f"/api/events/{fast}", json={"reviewed": True, "notes": "ok"})
    assert reviewed.status_code == 200 and reviewed.json()["superseded_by_event_id"] == final
    async with db_sessions() as session:
        assert (await session.get(Event, final)).reviewed is True
        assert (await session.get(Event, other)).reviewed is False
        assert (await session.get(Event, final)).notes is None
    unreviewed = await client.patch(f"/api/events/{final}", json={"reviewed": False})
    assert unreviewed.json()["preliminary"]["reviewed"] is False
