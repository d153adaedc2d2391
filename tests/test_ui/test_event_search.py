"""The events page's search box in a real browser, at phone width (390 px) and on a desktop:
typing and Enter search, matches are marked, time words are said back, a summary's markup stays
text, and the other filters combine with it."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import msgspec

from homesec.store import events as store_events
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot
from tests.support.rows import add_camera, add_detection, add_event, write_jpeg

ZONE = ZoneInfo("Europe/London")
CAMERAS = ("front_door", "back_door")


def _local_day(days_ago: int, hour: int) -> dt.datetime:
    today = dt.datetime.now(ZONE).date()
    return dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour), tzinfo=ZONE)


async def _seed(db_sessions, settings) -> dict[str, int]:
    folders = {camera: await add_camera(db_sessions, settings, camera) for camera in CAMERAS}
    seeded = {}
    rows = [
        ("courier", "front_door", _local_day(1, 14), "person", "low", 20,
         "A courier left a parcel at the front door"),
        ("night", "back_door", _local_day(1, 23), "person", "high", 70,
         "A person walked slowly along the back of the house, stopping at the window"),
        ("older", "back_door", _local_day(5, 23), "person", "high", 72,
         "A person walked along the house"),
        ("script", "front_door", _local_day(2, 10), "person", "medium", 35,
         "<script>window.injected = 1</script> someone at the gate"),
    ]  # fmt: skip
    for name, camera, at, kind, level, score, summary in rows:
        frame = write_jpeg(folders[camera] / f"{name}.jpg", (320, 240), (90, 110, 80))
        detection = await add_detection(
            db_sessions, camera_id=camera, object_type=kind, zones=[], file_path=str(frame),
            bbox_x=40, bbox_y=30, bbox_width=120, bbox_height=180,
        )  # fmt: skip
        seeded[name] = await add_event(
            db_sessions, batch_id=name, camera_id=camera, started_at=at, risk_level=level,
            risk_score=score, summary=summary,
            detection_ids=store_events.encode_detection_ids([detection]),
        )  # fmt: skip
    return seeded


async def test_search_box_at_phone_width(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    ids = await _seed(db_sessions, settings)
    zoned = msgspec.structs.replace(settings, timezone="Europe/London")
    base = serve(make_app(settings=zoned))
    browser = await watched(base)
    phone = await browser.page(PHONE)
    await phone.goto(base + "/")
    box = phone.locator("input[name=q]")
    # The box spans the phone's width (less the page's padding), on a line of its own.
    width = (await box.bounding_box())["width"]
    assert width > PHONE["width"] * 0.85, width

    await box.fill("deliveries")
    await box.press("Enter")
    await phone.wait_for_url(re.compile(r"/\?q=deliveries$"))
    rows = phone.locator("ol#events > li.event")
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-id") == str(ids["courier"])
    assert await rows.first.locator("mark").all_inner_texts() == ["courier", "parcel"]
    assert "best matches first" in await phone.inner_text("#searched")
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "search-deliveries")

    # Time words narrow and are said back; the camera's name is matched too.
    await box.fill("person back door last night")
    await box.press("Enter")
    await phone.wait_for_url(re.compile(r"q=person\+back\+door\+last\+night"))
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-id") == str(ids["night"])
    said = await phone.inner_text("#searched .search-time")
    assert said.startswith("last night: ")
    assert "18:00" in said and "06:00" in said
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "search-last-night")

    # Combined with a filter: the band keeps the search.
    await box.fill("person")
    await box.press("Enter")
    await phone.wait_for_url(re.compile(r"/\?q=person$"))
    assert await rows.count() == 4
    await phone.select_option("select[name=band]", "high")
    await phone.wait_for_url(re.compile(r"q=person&band=high"))
    assert {await row.get_attribute("data-id") for row in await rows.all()} == {
        str(ids["night"]),
        str(ids["older"]),
    }

    # A summary's markup is shown as text, never run.
    await phone.goto(base + "/?q=gate")
    assert await rows.count() == 1
    summary = rows.first.locator(".summary")
    assert "<script>window.injected = 1</script>" in await summary.inner_text()
    assert await phone.evaluate("() => window.injected === undefined")
    assert await summary.locator("mark").all_inner_texts() == ["gate"]

    # Nothing to look for: said on the page, the list unsearched.
    await phone.goto(base + "/?q=%21%21%21")
    said = phone.locator("main p.error", has_text="nothing to search for in '!!!'")
    assert await said.count() == 1
    assert await rows.count() == 4


async def test_search_at_desktop_width_and_the_slash_key(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    ids = await _seed(db_sessions, settings)
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(DESKTOP)
    await page.goto(base + "/?reviewed=all")
    await page.keyboard.press("/")
    assert await page.evaluate("() => document.activeElement.name") == "q"
    await page.keyboard.type("walked house")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/\?q=walked\+house$"))
    rows = page.locator("ol#events > li.event")
    # Both summaries hold both words; ts_rank ranks the one where they stand closer first,
    # though it is older.
    assert [await row.get_attribute("data-id") for row in await rows.all()] == [
        str(ids["older"]),
        str(ids["night"]),
    ]
    assert await page.locator("select[name=reviewed]").input_value() == "all"
    await shoot(page, screenshots, "search-desktop")
