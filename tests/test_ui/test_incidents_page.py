"""Incidents on the dashboard (issue 23): the events list shows one line per incident (its
cameras in order, its story, its visits' count) that opens into the incident's page (its story,
its visits in order); a visit joining it live replaces the line; reviewing the incident reviews
its visits. At 390 px (a phone) and at desktop width."""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import select

from homesec.contract.messages import SecurityEventData, SecurityEventMessage, encode_message
from homesec.models import Event
from homesec.store.analysis import IncidentRules
from homesec.store.events import StoredEvent
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll
from tests.support.incidents import write_visit
from tests.support.rows import NOW, add_camera, write_jpeg

RULES = IncidentRules(window_seconds=120)
SHOTS = os.environ.get("INCIDENT_SHOTS", "/work/shots")


def _message(event: StoredEvent) -> str:
    data = SecurityEventData(
        id=event.id, event_id=event.id, batch_id=event.batch_id, camera_id=event.camera_id,
        risk_score=event.risk_score, risk_level=event.risk_level, summary=event.summary,
        started_at=event.started_at.isoformat(), incident_id=event.incident_id,
    )  # fmt: skip
    return encode_message(SecurityEventMessage(data=data))


async def _shoot(page, name: str) -> None:
    await page.wait_for_load_state("networkidle")
    width = page.viewport_size["width"]
    await page.screenshot(path=f"{SHOTS}/incidents-{name}-{width}.png", full_page=True)


async def test_an_incident_is_one_line_that_opens_into_its_visits(
    make_app, serve, watched, db_sessions, settings, redis_client, events_channel
) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    folders = {c: await add_camera(db_sessions, settings, c) for c in ("driveway", "back_door",
                                                                        "garage")}  # fmt: skip
    picture = {
        camera: write_jpeg(folder / "p.jpg", (640, 480), colour)
        for (camera, folder), colour in zip(
            folders.items(), [(70, 90, 110), (110, 80, 70), (80, 110, 80)], strict=True
        )
    }
    start = NOW - dt.timedelta(minutes=3)
    lone = await write_visit(
        db_sessions, "garage", start - dt.timedelta(hours=2), score=15, rules=RULES,
        kind="car", summary="A car parks in the drive.", image=picture["garage"],
    )  # fmt: skip
    first = await write_visit(
        db_sessions, "driveway", start, score=62, rules=RULES,
        summary="A person walks up the driveway.", image=picture["driveway"],
    )  # fmt: skip
    second = await write_visit(
        db_sessions, "back_door", start + dt.timedelta(seconds=60), score=78, rules=RULES,
        summary="A person at the back door, after the driveway.", image=picture["back_door"],
    )  # fmt: skip
    assert second.incident_id is not None and lone.incident_id is None
    incident = second.incident_id

    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(base + "/")
    await page.wait_for_selector("#live.badge.on")
    lines = page.locator("ol#events > li.event")
    assert await lines.count() == 2  # the incident, and the lone visit
    line = page.locator(f'li.event.incident[data-incident="{incident}"]')
    assert await line.get_attribute("data-members") == f"{first.id} {second.id}"
    assert (await line.locator(".incident-cameras").inner_text()) == "Driveway → Back Door"
    assert await line.locator(".incident-badge").inner_text() == "2 visits"
    assert await line.locator(".score").inner_text() == "78"
    assert "then at Back Door" in await line.locator(".summary").inner_text()
    await no_horizontal_scroll(page)
    await _shoot(page, "events")

    # The garage 50 s after the back door: it joins, live; one line still, now of 3 visits.
    third = await write_visit(
        db_sessions, "garage", start + dt.timedelta(seconds=110), score=70, rules=RULES,
        summary="A person by the garage.", image=picture["garage"],
    )  # fmt: skip
    assert third.incident_id == incident
    await redis_client.publish(events_channel, _message(third))
    await page.wait_for_selector(f'li.event.incident[data-id="{third.id}"]:first-child')
    assert await page.locator(f'li.event[data-incident="{incident}"]').count() == 1
    assert await lines.count() == 2
    assert await line.locator(".incident-badge").inner_text() == "3 visits"
    assert (await line.locator(".incident-cameras").inner_text()) == "Driveway → Back Door → Garage"

    # It opens into the incident: the story and its visits in order.
    await line.locator("a.event-link").click()
    await page.wait_for_url(f"**/incidents/{incident}")
    story = await page.locator("#story").inner_text()
    assert story.startswith("A person at Driveway at ") and "then at Garage" in story
    visits = page.locator("#visits > li.event")
    assert [await v.get_attribute("data-id") for v in await visits.all()] == [
        str(first.id),
        str(second.id),
        str(third.id),
    ]
    await no_horizontal_scroll(page)
    await _shoot(page, "incident")

    # Reviewing the incident reviews its visits.
    await page.locator("#incident-reviewed").check()
    await page.wait_for_selector("#visits > li.event.reviewed >> nth=2")
    async with db_sessions() as session:
        reviewed = dict((await session.execute(select(Event.id, Event.reviewed))).all())
    assert reviewed == {lone.id: False, first.id: True, second.id: True, third.id: True}

    # A visit's own page says it is part of the incident, and leads there.
    await page.goto(f"{base}/events/{second.id}")
    assert await page.get_attribute("#incident-link", "href") == f"/incidents/{incident}"
    await no_horizontal_scroll(page)
    await _shoot(page, "event")

    # The list of what is left to review: the lone visit only.
    await page.goto(base + "/")
    assert [await v.get_attribute("data-id") for v in await lines.all()] == [str(lone.id)]

    # At desktop width, everything shown.
    wide = await browser.page(DESKTOP)
    await wide.goto(base + "/?reviewed=all")
    assert await wide.locator("li.event.incident").count() == 1
    await no_horizontal_scroll(wide)
    await _shoot(wide, "events")
    await wide.goto(f"{base}/incidents/{incident}")
    await no_horizontal_scroll(wide)
    await _shoot(wide, "incident")
