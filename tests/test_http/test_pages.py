"""The dashboard's pages (server-rendered), the live row fragment, feedback and the crops.

What the pages do in a browser (scripts, live events, layout) is tested in tests/test_ui.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from homesec.http.pages.templates import time_range
from homesec.models import Camera, EventFeedback
from tests.support.rows import (
    T0,
    add_camera,
    add_detection,
    add_event,
    seed_filter_cases,
    write_jpeg,
)


def listed_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li class="event[^"]*" data-id="(\d+)"', html)]


async def test_events_page_filters_from_the_url(client, db_sessions, settings) -> None:
    ids = await seed_filter_cases(db_sessions, settings)
    unreviewed = listed_ids((await client.get("/")).text)  # the default: unreviewed only
    assert unreviewed == [ids["unscored_no_ids"], ids["critical_fast"], ids["low_person"]]
    everything = listed_ids((await client.get("/?reviewed=all")).text)
    assert ids["medium_car_reviewed"] in everything and len(everything) == 4
    assert listed_ids((await client.get("/?band=critical")).text) == [ids["critical_fast"]]
    assert listed_ids((await client.get("/?camera=garage&reviewed=all")).text) == [
        ids["unscored_no_ids"],
        ids["medium_car_reviewed"],
    ]
    assert listed_ids((await client.get("/?object=cat")).text) == [ids["low_person"]]
    assert listed_ids((await client.get("/?until=2025-12-22&reviewed=all")).text) == []
    # A hand-edited address is shown with what was ignored, not refused.
    odd = await client.get("/?band=purple&since=yesterday")
    assert odd.status_code == 200
    assert "unknown band" in odd.text and "since is not a date" in odd.text


async def test_band_counts_follow_the_other_filters(client, db_sessions, settings) -> None:
    await seed_filter_cases(db_sessions, settings)
    html = (await client.get("/?camera=front_door&band=low")).text
    counts = dict(re.findall(r'href="/\?[^"]*"><span>(\w+)</span> <b>(\d+)</b>', html))
    assert counts == {"low": "1", "medium": "0", "high": "0", "critical": "1", "unscored": "0"}


async def test_paging_keeps_the_filters(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "yard")
    for minute in range(35):  # more than one page of 30
        await add_event(
            db_sessions,
            batch_id=f"b{minute}",
            camera_id="yard",
            started_at=T0.replace(minute=minute),
            risk_level="low",
            risk_score=5,
        )
    first = await client.get("/?band=low")
    older = re.search(r'id="older" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "band=low" in older and "cursor=" in older
    second = await client.get(older)
    assert len(listed_ids(first.text)) == 30 and len(listed_ids(second.text)) == 5
    assert not set(listed_ids(first.text)) & set(listed_ids(second.text))


async def test_live_row_only_for_events_the_list_shows(client, db_sessions, settings) -> None:
    ids = await seed_filter_cases(db_sessions, settings)
    row = await client.get(f"/events/{ids['critical_fast']}/row?band=critical")
    assert row.status_code == 200 and f'data-id="{ids["critical_fast"]}"' in row.text
    assert (await client.get(f"/events/{ids['low_person']}/row?band=critical")).status_code == 204
    hidden = await client.get(f"/events/{ids['medium_car_reviewed']}/row")  # reviewed
    assert hidden.status_code == 204


async def test_event_page_shows_frames_boxes_and_neighbours(client, db_sessions, settings) -> None:
    folder = await add_camera(db_sessions, settings, "porch")
    frame = str(write_jpeg(folder / "a.jpg", size=(640, 480)))
    boxes = []
    for x, kind in ((10, "person"), (300, "dog")):
        boxes.append(
            await add_detection(
                db_sessions,
                camera_id="porch",
                file_path=frame,
                object_type=kind,
                bbox_x=x,
                bbox_y=20,
                bbox_width=100,
                bbox_height=200,
            )
        )
    older = await add_event(db_sessions, batch_id="o", camera_id="porch", started_at=T0)
    event = await add_event(
        db_sessions,
        batch_id="e",
        camera_id="porch",
        started_at=T0.replace(hour=13),
        risk_score=72,
        risk_level="high",
        summary="A person and a dog at the porch.",
        reasoning="Night, unknown person.",
        detection_ids=f"[{boxes[0]}, {boxes[1]}]",
    )
    html = (await client.get(f"/events/{event}")).text
    assert 'viewBox="0 0 640 480"' in html
    assert html.count("<rect ") == 2 and "person 90%" in html and "dog 90%" in html
    assert f"/api/detections/{boxes[0]}/image?boxed=false" in html
    assert f'id="older" rel="next" href="/events/{older}"' in html
    assert "Night, unknown person." in html and "72" in html
    crop = await client.get(f"/api/detections/{boxes[0]}/crop")
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"
    plain = await client.get(f"/api/detections/{boxes[0]}/image?boxed=false")
    assert plain.status_code == 200


async def test_a_superseded_event_page_names_and_links_the_visits_final_verdict(
    client, db_sessions, settings
) -> None:
    """The first push links to the fast-path event; by the time it is opened the batch may have
    superseded it. Its page says so at the top and links the visit's latest verdict (through a
    second fast-path event chained between them)."""
    await add_camera(db_sessions, settings, "porch")
    fast = await add_event(db_sessions, batch_id="fast-1", camera_id="porch", started_at=T0,
                           risk_score=70, risk_level="high", is_fast_path=True)  # fmt: skip
    second = await add_event(db_sessions, batch_id="fast-2", camera_id="porch", started_at=T0,
                             risk_score=72, risk_level="high", is_fast_path=True,
                             supersedes_event_id=fast)  # fmt: skip
    final = await add_event(db_sessions, batch_id="visit", camera_id="porch", started_at=T0,
                            risk_score=88, risk_level="critical", summary="Trying the door.",
                            supersedes_event_id=second)  # fmt: skip

    html = (await client.get(f"/events/{fast}")).text
    notice = re.search(r'<p id="superseded"[^>]*>(.*?)</p>', html, re.S)
    assert notice is not None, "no notice that the event was superseded"
    assert html.index('id="superseded"') < html.index('class="detail-grid"')  # at the top
    text = re.sub(r"<[^>]+>|\s+", " ", notice.group(1))
    assert "preliminary" in text and "critical 88" in text and f"#{final}" in text
    assert re.search(rf'<a id="final-verdict" href="/events/{final}"', notice.group(1))
    assert f'href="/events/{final}"' in (await client.get(f"/events/{second}")).text

    final_page = (await client.get(f"/events/{final}")).text
    assert 'id="superseded"' not in final_page
    assert f'href="/events/{second}"' in final_page  # what it replaced stays reachable


async def test_feedback_is_stored_in_its_own_table(client, db_sessions, settings) -> None:
    ids = await seed_filter_cases(db_sessions, settings)
    event = ids["critical_fast"]
    url = f"/api/events/{event}/feedback"
    assert (await client.post(url, json={"feedback": "false_alarm"})).status_code == 201
    wrong = await client.post(url, json={"feedback": "wrong_severity", "should_be": "low"})
    assert wrong.status_code == 201 and wrong.json()["should_be"] == "low"
    for bad in (
        {"feedback": "wrong_severity"},
        {"feedback": "false_alarm", "should_be": "high"},
        {"feedback": "meh"},
        {"feedback": "wrong_severity", "should_be": "severe"},
    ):
        assert (await client.post(url, json=bad)).status_code == 400, bad
    missing = await client.post("/api/events/999999/feedback", json={"feedback": "false_alarm"})
    assert missing.status_code == 404
    listed = (await client.get(url)).json()
    assert [item["feedback"] for item in listed["items"]] == ["false_alarm", "wrong_severity"]
    async with db_sessions() as session:
        rows = (await session.scalars(select(EventFeedback))).all()
    assert {(row.event_id, row.feedback, row.should_be) for row in rows} == {
        (event, "false_alarm", None),
        (event, "wrong_severity", "low"),
    }


async def test_cameras_can_be_disabled_and_renamed(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "garden")
    changed = await client.patch("/api/cameras/garden", json={"enabled": False, "name": "Garden"})
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False and changed.json()["name"] == "Garden"
    async with db_sessions() as session:
        assert (await session.get(Camera, "garden")).enabled is False
    page = (await client.get("/cameras")).text
    assert "camera-card status-online disabled" in page and "Garden" in page


async def test_system_page_and_docs_need_no_other_host(client) -> None:
    for path in ("/system", "/schema", "/schema/swagger", "/login", "/"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", response.text), path
    assert (
        "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in (await client.get("/schema")).text
    )
    bundle = await client.get("/static/vendor/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


async def test_times_and_date_filters_are_in_the_house_time_zone(
    make_app, settings, db_sessions
) -> None:
    await add_camera(db_sessions, settings, "gate")
    # 02:30 UTC on 24 Dec is still 23 Dec, 21:30, in New York.
    late = T0.replace(day=24, hour=2, minute=30)
    event = await add_event(db_sessions, batch_id="late", camera_id="gate", started_at=late)
    house = msgspec.structs.replace(settings, timezone="America/New_York")
    async with AsyncTestClient(make_app(settings=house)) as client:
        html = (await client.get("/")).text
        assert "Tue 23 Dec 21:30" in html or "23 Dec 2025 21:30" in html
        assert "America/New_York" in html
        assert listed_ids((await client.get("/?since=2025-12-23&until=2025-12-23")).text) == [event]
        assert listed_ids((await client.get("/?since=2025-12-24")).text) == []


def test_a_time_range_gives_both_ends_to_the_second_and_dates_across_midnight() -> None:
    start = dt.datetime(2025, 12, 23, 13, 1, 15, tzinfo=dt.UTC)
    assert time_range(start, start.replace(second=42), dt.UTC) == (
        "Tue 23 Dec 2025 13:01:15 \N{EN DASH} 13:01:42"
    )
    late = dt.datetime(2025, 12, 23, 23, 59, 50, tzinfo=dt.UTC)
    assert time_range(late, late + dt.timedelta(seconds=20), dt.UTC) == (
        "Tue 23 Dec 2025 23:59:50 \N{EN DASH} Wed 24 Dec 2025 00:00:10"
    )
    # The dates are the house's: 23:30 to 00:30 UTC is within one day in New York.
    york = zoneinfo.ZoneInfo("America/New_York")
    assert time_range(late, late + dt.timedelta(hours=1), york) == (
        "Tue 23 Dec 2025 18:59:50 \N{EN DASH} 19:59:50"
    )
    assert time_range(start, None, dt.UTC) == "Tue 23 Dec 2025 13:01:15"
