"""The timeline in Chromium: a lane per camera for a day, each visit a mark coloured by its band
at its time (the fast-path event its batch supersedes is not a second mark), readable at 390 px
(lanes as columns, time running down) and at 1280 px (rows, time running right); a tap opens
the event; "since I last looked" starts where the last look ended."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import msgspec
from sqlalchemy import update

from homesec.models import Event, TimelineLook
from tests.support.browser import PHONE, no_horizontal_scroll, shoot
from tests.support.rows import add_camera, add_event

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WIDE = {"width": 1280, "height": 900}


async def seed_yesterday(db_sessions, settings) -> tuple[dt.date, dict[str, int]]:
    day = dt.datetime.now(BERLIN).date() - dt.timedelta(days=1)

    def at(hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)

    for camera in ("front_door", "garage", "back_garden"):
        await add_camera(db_sessions, settings, camera)
    ids = {}
    for name, camera, when, level, score, fast in (
        ("night", "front_door", at(1, 10), "low", 8, False),
        ("fast", "front_door", at(2, 14), "high", 65, True),
        ("batch", "front_door", at(2, 14), "critical", 92, False),
        ("morning", "front_door", at(7, 45), "medium", 40, False),
        ("beside", "front_door", at(7, 50), "low", 12, False),
        ("noon", "garage", at(12), None, None, False),
        ("car", "garage", at(18, 30), "high", 71, False),
    ):
        ids[name] = await add_event(
            db_sessions, batch_id=name, camera_id=camera, started_at=when, risk_level=level,
            risk_score=score, is_fast_path=fast, summary=f"The {name} visit.",
        )  # fmt: skip
    async with db_sessions.begin() as session:
        await session.execute(
            update(Event).where(Event.id == ids["batch"]).values(supersedes_event_id=ids["fast"])
        )
    return day, ids


async def test_a_day_on_a_phone_and_a_wide_screen(
    make_app, serve, watched, db_sessions, settings, screenshots
):
    settings = msgspec.structs.replace(settings, timezone="Europe/Berlin")
    day, ids = await seed_yesterday(db_sessions, settings)
    base = serve(make_app(settings=settings))
    browser = await watched(base)
    for viewport in (PHONE, WIDE):
        page = await browser.page(viewport)
        await page.goto(f"{base}/timeline?day={day.isoformat()}")
        names = await page.locator(".lane .lane-name").all_inner_texts()
        assert [name.split()[0:2] for name in names] == [
            ["Back", "Garden"], ["Front", "Door"], ["Garage", "2"],
        ], names  # fmt: skip
        # One mark per visit: the fast-path event is inside its batch's visit.
        marks = page.locator("a.mark")
        assert await marks.count() == 6
        assert await page.locator(f'a.mark[data-event="{ids["fast"]}"]').count() == 0
        critical = page.locator(f'a.mark[data-event="{ids["batch"]}"]')
        assert "band-critical" in await critical.get_attribute("class")
        colour = await critical.evaluate("(e) => getComputedStyle(e).backgroundColor")
        assert colour != await page.locator(f'a.mark[data-event="{ids["night"]}"]').evaluate(
            "(e) => getComputedStyle(e).backgroundColor"
        )
        # Placed by time: noon is half way along the garage's lane (a 24-hour day here).
        track = await page.locator('.lane[data-camera="garage"] .track').bounding_box()
        noon = await page.locator(f'a.mark[data-event="{ids["noon"]}"]').bounding_box()
        if viewport is PHONE:
            share = (noon["y"] + noon["height"] / 2 - track["y"]) / track["height"]
        else:
            share = (noon["x"] + noon["width"] / 2 - track["x"]) / track["width"]
        assert abs(share - 0.5) < 0.02, share
        # Readable: every lane at least 60 px across (room for three marks side by side); marks big
        # enough to tap; and the page itself never wider than the screen.
        for lane in await page.locator(".lane").all():
            box = await lane.bounding_box()
            assert min(box["width"], box["height"]) >= 60, box
        mark_box = await critical.bounding_box()
        assert mark_box["width"] >= 16 and mark_box["height"] >= 16
        # Two visits five minutes apart sit side by side, not on top of each other.
        first = await page.locator(f'a.mark[data-event="{ids["morning"]}"]').bounding_box()
        second = await page.locator(f'a.mark[data-event="{ids["beside"]}"]').bounding_box()
        apart = (first["x"] - second["x"], first["y"] - second["y"])
        assert max(abs(apart[0]), abs(apart[1])) >= 16, (first, second)
        await no_horizontal_scroll(page)
        await shoot(page, screenshots, "timeline")

        await critical.click()
        await page.wait_for_url(re.compile(rf"/events/{ids['batch']}$"))
        await page.go_back()
        await page.locator("#next-day").click()
        await page.wait_for_url(re.compile(r"/timeline\?day="))


async def test_since_i_last_looked_starts_at_the_last_look(
    make_app, serve, watched, db_sessions, settings, screenshots
):
    now = dt.datetime.now(dt.UTC)
    await add_camera(db_sessions, settings, "porch")
    seen = await add_event(db_sessions, batch_id="seen", camera_id="porch",
                           started_at=now - dt.timedelta(hours=3), risk_level="high",
                           risk_score=70)  # fmt: skip
    new = await add_event(db_sessions, batch_id="new", camera_id="porch",
                          started_at=now - dt.timedelta(hours=1), risk_level="medium",
                          risk_score=40)  # fmt: skip
    async with db_sessions.begin() as session:
        session.add(TimelineLook(viewer="house", looked_at=now - dt.timedelta(hours=2),
                                 previous_at=now - dt.timedelta(days=2)))  # fmt: skip
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(f"{base}/timeline?since=last-look")
    assert await page.inner_text("h1") == "Since you last looked"
    assert await page.locator(f'a.mark[data-event="{new}"]').count() == 1
    assert await page.locator(f'a.mark[data-event="{seen}"]').count() == 0
    await no_horizontal_scroll(page)
    await shoot(page, screenshots, "timeline-since")
    # Back from the event the owner tapped: the same look, the same visits.
    await page.locator(f'a.mark[data-event="{new}"]').click()
    await page.wait_for_url(re.compile(rf"/events/{new}$"))
    await page.go_back()
    await page.reload()
    assert await page.locator(f'a.mark[data-event="{new}"]').count() == 1


async def test_many_cameras_scroll_inside_the_timeline_on_a_phone(
    make_app, serve, watched, db_sessions, settings, screenshots
):
    names = ["drive", "porch", "garage", "garden", "side_gate", "shed", "attic", "kitchen_door"]
    for camera in names:
        await add_camera(db_sessions, settings, camera)
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(f"{base}/timeline")
    await no_horizontal_scroll(page)  # the page stays 390 px; the lanes scroll in their box
    box = page.locator(".timeline")
    assert await box.evaluate("(e) => e.scrollWidth > e.clientWidth")
    last = page.locator('.lane[data-camera="side_gate"] .lane-name')
    await last.scroll_into_view_if_needed()
    assert (await last.bounding_box())["x"] < PHONE["width"]
    lane = await page.locator('.lane[data-camera="attic"]').bounding_box()
    assert lane["width"] >= 70
    await shoot(page, screenshots, "timeline-many")
